import type { Db } from '../db/index.js'
import type { Ctx } from '../shared/index.js'

export type AuditEntry = {
  /** What happened, `area.verb`: `payment.paid`, `order.refunded`, `admin.user_banned`, ... */
  action: string
  targetType: string
  targetId: string
  before?: unknown
  after?: unknown
  note?: string
}

/**
 * Appends one audit row in the caller's transaction, with the actor and request id of the
 * context (a system job has neither). The table refuses UPDATE and DELETE.
 */
export async function audit(
  ctx: Pick<Ctx, 'db' | 'actor' | 'requestId'> & { db: Db },
  entry: AuditEntry,
): Promise<void> {
  await ctx.db('audit_log').insert({
    action: entry.action,
    actor_id: ctx.actor?.id ?? null,
    actor_role: ctx.actor?.role ?? 'system',
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    note: entry.note ?? null,
    request_id: ctx.requestId ?? null,
  })
}

/**
 * The same entry as an `insert ... select` over `source` (a CTE of the caller's statement):
 * one row per row of `source`, so a change and its audit row go to the database as one
 * statement, and no row is written when the change matched nothing. Put `sql` in a CTE of
 * that statement and pass `bindings` (named, all prefixed `audit`) with the caller's.
 */
export function auditFromSql(
  ctx: Pick<Ctx, 'actor' | 'requestId'>,
  entry: AuditEntry,
  source: string,
): { sql: string; bindings: Record<string, string | null> } {
  return {
    sql: `insert into audit_log (action, actor_id, actor_role, target_type, target_id, before, after, note, request_id)
       select :auditAction, :auditActorId::uuid, :auditActorRole, :auditTargetType, :auditTargetId,
              :auditBefore::jsonb, :auditAfter::jsonb, :auditNote, :auditRequestId
       from ${source}`,
    bindings: {
      auditAction: entry.action,
      auditActorId: ctx.actor?.id ?? null,
      auditActorRole: ctx.actor?.role ?? 'system',
      auditTargetType: entry.targetType,
      auditTargetId: entry.targetId,
      auditBefore: entry.before === undefined ? null : JSON.stringify(entry.before),
      auditAfter: entry.after === undefined ? null : JSON.stringify(entry.after),
      auditNote: entry.note ?? null,
      auditRequestId: ctx.requestId ?? null,
    },
  }
}
