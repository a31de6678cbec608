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
