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

type AuditCtx = Pick<Ctx, 'actor' | 'requestId'>

/** The audit row of an entry, with the actor and request id of the context (a system job has neither). */
function auditRow(ctx: AuditCtx, entry: AuditEntry) {
  return {
    action: entry.action,
    actor_id: ctx.actor?.id ?? null,
    actor_role: ctx.actor?.role ?? 'system',
    target_type: entry.targetType,
    target_id: entry.targetId,
    before: entry.before === undefined ? null : JSON.stringify(entry.before),
    after: entry.after === undefined ? null : JSON.stringify(entry.after),
    note: entry.note ?? null,
    request_id: ctx.requestId ?? null,
  }
}

/** The casts a bound value needs in an `insert ... select` (elsewhere the column's type decides). */
const CASTS: Partial<Record<keyof ReturnType<typeof auditRow>, string>> = {
  actor_id: '::uuid',
  before: '::jsonb',
  after: '::jsonb',
}

/**
 * Appends one audit row in the caller's transaction, with the actor and request id of the
 * context. The table refuses UPDATE and DELETE.
 */
export async function audit(ctx: AuditCtx & { db: Db }, entry: AuditEntry): Promise<void> {
  await ctx.db('audit_log').insert(auditRow(ctx, entry))
}

/**
 * The same entry as an `insert ... select` over `source` (a CTE of the caller's statement):
 * one row per row of `source`, so a change and its audit row go to the database as one
 * statement, and no row is written when the change matched nothing. Put `sql` in a CTE of
 * that statement and pass `bindings` (named, all prefixed `audit_`) with the caller's.
 */
export function auditFromSql(
  ctx: AuditCtx,
  entry: AuditEntry,
  source: string,
): { sql: string; bindings: Record<string, string | null> } {
  const row = auditRow(ctx, entry)
  const columns = Object.keys(row) as (keyof typeof row)[]
  return {
    sql: `insert into audit_log (${columns.join(', ')})
       select ${columns.map((c) => `:audit_${c}${CASTS[c] ?? ''}`).join(', ')} from ${source}`,
    bindings: Object.fromEntries(columns.map((c) => [`audit_${c}`, row[c]])),
  }
}
