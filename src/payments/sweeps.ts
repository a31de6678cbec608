import type { Db } from '../db/index.js'
import type { Job } from '../jobs/index.js'
import type { Ctx } from '../shared/index.js'
import type { Confirmation, ConfirmOutcome } from './confirmation.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { Refunds } from './refunds.js'
import type { Unpaid } from './unpaid.js'

/*
 * Sweeper jobs. Each finds its due work inside the sweeper's short transaction (which holds
 * the job's advisory lock) and hands it to the background, outside that transaction: the
 * work calls Paystack and opens its own transactions, and must not hold a connection while
 * it waits (on embedded PGlite there is only one). Every step is idempotent and guarded by
 * row locks or leases, so a second node picking the same row changes nothing; the in-flight
 * set only saves this node from starting the same work twice.
 */
export function createSweeps(
  deps: PaymentsDeps,
  parts: {
    confirmation: Confirmation
    refunds: Refunds
    unpaid: Unpaid
    processEvent: (ctx: Ctx, eventId: string) => Promise<void>
  },
) {
  const { log } = deps
  const inFlight = new Set<string>()
  function handOver(kind: string, ids: string[], work: (id: string) => Promise<unknown>): number {
    const fresh = ids.filter((id) => !inFlight.has(`${kind}:${id}`))
    for (const id of fresh) inFlight.add(`${kind}:${id}`)
    if (fresh.length > 0) {
      deps.background.run(`sweeper:${kind}`, async () => {
        for (const id of fresh) {
          try {
            await work(id)
          } catch (err) {
            log.warn({ kind, id, err: (err as Error).message }, 'background sweep step failed; retried next sweep')
          } finally {
            inFlight.delete(`${kind}:${id}`)
          }
        }
      })
    }
    return fresh.length
  }

  /** Asks Paystack about a payment without letting a failure stop a sweep. */
  async function quietConfirm(ctx: Ctx, reference: string): Promise<ConfirmOutcome | undefined> {
    try {
      return await parts.confirmation.confirmByReference(ctx, reference)
    } catch (err) {
      log.warn({ reference, err: (err as Error).message }, 'payment re-verification failed')
      return undefined
    }
  }

  /** Checkouts past their window are verified once more, then expired. */
  async function expireDueCheckouts(db: Db, ctx: Ctx, limit = 50): Promise<number> {
    const due = await db('orders as o')
      .leftJoin('payments as p', 'p.order_id', 'o.id')
      .where('o.payment_status', 'pending')
      .where('o.expires_at', '<', db.fn.now())
      .orderBy('o.expires_at')
      .limit(limit)
      .select<{ id: string; reference: string | null; status: string | null }[]>('o.id', 'p.reference', 'p.status')
    const byId = new Map(due.map((o) => [o.id, o]))
    return handOver('expire', [...byId.keys()], async (orderId) => {
      const o = byId.get(orderId)!
      if (o.reference && o.status === 'pending') {
        const r = await quietConfirm(ctx, o.reference)
        if (r && (r.outcome === 'paid' || r.outcome === 'late_refunded' || r.outcome === 'already')) return
      }
      await parts.unpaid.expireOrder(ctx, orderId)
    })
  }

  /** Pending payments a minute old are verified again (a lost webhook or redirect). */
  async function reverifyPending(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const rows = await db('payments as p')
      .join('orders as o', 'o.id', 'p.order_id')
      .where('p.status', 'pending')
      .where('o.payment_status', 'pending')
      .where('o.expires_at', '>', db.fn.now())
      .whereRaw("p.created_at < now() - interval '60 seconds'")
      .andWhere((q) =>
        q.whereNull('p.last_verified_at').orWhereRaw("p.last_verified_at < now() - interval '60 seconds'"),
      )
      .orderByRaw('coalesce(p.last_verified_at, p.created_at)')
      .limit(limit)
      .select<{ reference: string }[]>('p.reference')
    return handOver(
      'reverify',
      rows.map((r) => r.reference),
      (reference) => quietConfirm(ctx, reference),
    )
  }

  /** Refunds whose send is due (Paystack was unreachable, or a lease ran out) are sent again. */
  async function retryRefunds(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const due = await db('refunds')
      .where('status', 'pending')
      .where('next_attempt_at', '<=', db.fn.now())
      .orderBy('next_attempt_at')
      .limit(limit)
      .select('id')
    return handOver(
      'refund',
      due.map((r) => r.id),
      (id) => parts.refunds.submitRefund(ctx, id),
    )
  }

  /** Webhooks whose processing failed (or never ran) are processed again. */
  async function replayWebhooks(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const due = await db('payment_events')
      .whereNull('processed_at')
      .whereRaw("received_at < now() - interval '30 seconds'")
      .where('attempts', '<', 20)
      .orderBy('received_at')
      .limit(limit)
      .select('id')
    return handOver(
      'webhook',
      due.map((e) => e.id),
      (id) => parts.processEvent(ctx, id),
    )
  }

  /** The jobs, as the sweeper runs them; `system` is the context their background work uses. */
  function jobs(system: Ctx): Job[] {
    return [
      { name: 'commerce-expire-checkouts', run: (trx) => expireDueCheckouts(trx, system) },
      { name: 'commerce-reverify-payments', run: (trx) => reverifyPending(trx, system) },
      { name: 'commerce-retry-refunds', run: (trx) => retryRefunds(trx, system) },
      { name: 'commerce-replay-webhooks', run: (trx) => replayWebhooks(trx, system) },
    ]
  }

  return { expireDueCheckouts, reverifyPending, retryRefunds, replayWebhooks, jobs }
}
