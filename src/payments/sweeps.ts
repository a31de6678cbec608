import type { Db } from '../db/index.js'
import type { Job } from '../jobs/index.js'
import type { Ctx } from '../shared/index.js'
import type { Confirmation, ConfirmOutcome } from './confirmation.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { Reconciliation } from './reconciliation.js'
import type { Refunds } from './refunds.js'
import { PAYSTACK_HORIZON_MS } from './retry-schedule.js'
import type { Unpaid } from './unpaid.js'
import type { Unsettled } from './unsettled.js'

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
    unsettled: Unsettled
    reconciliation: Reconciliation
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

  /**
   * Checkouts past their window are verified once more, then expired. One whose payment
   * Paystack could not be asked about is not expired on a guess: the buyer may have paid.
   * It stays pending (its reservations lapse by themselves, so it holds no stock) and is
   * asked about again with back-off (payments.next_verify_at); if Paystack stays out of
   * reach for 72 h it is expired and raised to admins, and the reconciliation still heals it
   * if Paystack later lists the payment as a success.
   */
  async function expireDueCheckouts(db: Db, ctx: Ctx, limit = 50): Promise<number> {
    const due = await db('orders as o')
      .leftJoin('payments as p', 'p.order_id', 'o.id')
      .where('o.payment_status', 'pending')
      .where('o.expires_at', '<', db.fn.now())
      .where((q) => q.whereNull('p.next_verify_at').orWhere('p.next_verify_at', '<=', db.fn.now()))
      .orderBy('o.expires_at')
      .limit(limit)
      .select<
        {
          id: string
          reference: string | null
          status: string | null
          amount: number | null
          created_at: Date | null
        }[]
      >('o.id', 'p.reference', 'p.status', 'p.amount', 'p.created_at')
    const byId = new Map(due.map((o) => [o.id, o]))
    return handOver('expire', [...byId.keys()], async (orderId) => {
      const o = byId.get(orderId)!
      if (o.reference && o.status === 'pending') {
        const r = await quietConfirm(ctx, o.reference)
        if (r && (r.outcome === 'paid' || r.outcome === 'late_refunded' || r.outcome === 'already')) return
        if (!r) {
          if (Date.now() - (o.created_at?.getTime() ?? 0) < PAYSTACK_HORIZON_MS) return
          if (await parts.unpaid.expireOrder(ctx, orderId))
            await parts.unsettled.raise(ctx, {
              reference: o.reference,
              orderId,
              kind: 'unconfirmed',
              ojaAmount: 0,
              paystackAmount: null,
              detail: `Paystack could not be asked about this payment for 72 h (expected ${o.amount ?? '?'}); the checkout was expired`,
            })
          return
        }
      }
      await parts.unpaid.expireOrder(ctx, orderId)
    })
  }

  /** Pending payments a minute old are verified again (a lost webhook or redirect), backing off while Paystack fails. */
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
      .andWhere((q) => q.whereNull('p.next_verify_at').orWhere('p.next_verify_at', '<=', db.fn.now()))
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

  /**
   * Webhooks whose processing failed (or never ran) are processed again when due: their
   * `next_attempt_at` backs off after each failure, and they are retried for as long as
   * Paystack itself retries (72 h after receipt). Past that, an event still unprocessed is
   * raised to admins as unsettled and no longer replayed.
   */
  async function replayWebhooks(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const horizon = db.raw("now() - (? * interval '1 millisecond')", [PAYSTACK_HORIZON_MS])
    const due = await db('payment_events')
      .whereNull('processed_at')
      .whereNull('gave_up_at')
      .where('next_attempt_at', '<=', db.fn.now())
      .where('received_at', '>', horizon)
      .orderBy('next_attempt_at')
      .limit(limit)
      .select('id')
    const stale = await db('payment_events')
      .whereNull('processed_at')
      .whereNull('gave_up_at')
      .where('received_at', '<=', horizon)
      .orderBy('received_at')
      .limit(limit)
      .select('id')
    return (
      handOver(
        'webhook',
        due.map((e) => e.id),
        (id) => parts.processEvent(ctx, id),
      ) +
      handOver(
        'webhook-give-up',
        stale.map((e) => e.id),
        (id) => giveUpWebhook(ctx, id),
      )
    )
  }

  /** An event that could not be processed within Paystack's horizon: stop, and tell admins. */
  async function giveUpWebhook(ctx: Ctx, eventId: string): Promise<void> {
    const [ev] = await ctx
      .db('payment_events')
      .where('id', eventId)
      .whereNull('processed_at')
      .whereNull('gave_up_at')
      .update({ gave_up_at: ctx.db.fn.now() })
      .returning('*')
    if (!ev) return
    const payment = ev.reference ? await ctx.db('payments').where('reference', ev.reference).first() : undefined
    await parts.unsettled.raise(ctx, {
      reference: ev.reference ?? `event:${ev.id}`,
      orderId: payment?.order_id ?? null,
      kind: 'unconfirmed',
      ojaAmount: payment ? (payment.status === 'success' ? payment.amount : 0) : null,
      paystackAmount: null,
      currency: payment?.currency ?? null,
      detail: `${ev.event} could not be processed in 72 h (${ev.attempts} attempts): ${ev.last_error ?? 'no error recorded'}`,
    })
  }

  /**
   * The reconciliation against Paystack's lists, once per PAYSTACK_RECONCILE_INTERVAL_MS
   * across all nodes (payment_reconciliations records each run; a run still going holds the
   * next one back for up to an hour). On a fresh database the first run only records its start.
   */
  async function reconcileDue(db: Db, ctx: Ctx): Promise<number> {
    const last = await db('payment_reconciliations').orderBy('started_at', 'desc').first('started_at')
    if (!last) {
      await db('payment_reconciliations').insert({
        window_from: db.fn.now(),
        window_to: db.fn.now(),
        finished_at: db.fn.now(),
      })
      return 0
    }
    // Not due: a run started within the interval, or one still running (for up to an hour).
    const { rows } = await db.raw<{ rows: { busy: boolean }[] }>(
      `select exists (
         select 1 from payment_reconciliations
         where started_at > now() - (:ms * interval '1 millisecond')
            or (finished_at is null and started_at > now() - interval '1 hour')
       ) as busy`,
      { ms: deps.config.PAYSTACK_RECONCILE_INTERVAL_MS },
    )
    if (rows[0]?.busy) return 0
    const [run] = await db('payment_reconciliations')
      .insert({
        window_from: db.raw("now() - (? * interval '1 hour')", [deps.config.PAYSTACK_RECONCILE_WINDOW_HOURS]),
        window_to: db.fn.now(),
      })
      .returning('id')
    // The run's row is written in the sweeper's transaction: the work starts once it committed.
    const committed = 'executionPromise' in db ? db.executionPromise : Promise.resolve()
    return handOver('reconcile', [run!.id], async (id) => {
      await committed
      await parts.reconciliation.runRecorded(ctx, id)
    })
  }

  /** The jobs, as the sweeper runs them; `system` is the context their background work uses. */
  function jobs(system: Ctx): Job[] {
    return [
      { name: 'commerce-expire-checkouts', run: (trx) => expireDueCheckouts(trx, system) },
      { name: 'commerce-reverify-payments', run: (trx) => reverifyPending(trx, system) },
      { name: 'commerce-retry-refunds', run: (trx) => retryRefunds(trx, system) },
      { name: 'commerce-replay-webhooks', run: (trx) => replayWebhooks(trx, system) },
      { name: 'commerce-reconcile-paystack', run: (trx) => reconcileDue(trx, system) },
    ]
  }

  return { expireDueCheckouts, reverifyPending, retryRefunds, replayWebhooks, reconcileDue, jobs }
}
