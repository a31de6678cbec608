import { createHash } from 'node:crypto'
import type { Ctx } from '../shared/index.js'
import type { Confirmation } from './confirmation.js'
import type { Refunds } from './refunds.js'
import { retryGapMs } from './retry-schedule.js'

export type WebhookPayload = { event: string; data: Record<string, unknown> }

/**
 * Verify answers that settle a charge.success for good: the charge is confirmed (and
 * settled), or Paystack says it failed or was reversed. Anything else (`ongoing`, `pending`,
 * `processing`, `queued`, `abandoned`, an unknown reference) may still turn into a success.
 */
const FINAL_NOT_PAID = new Set(['failed', 'reversed'])

/** What a Paystack event does once stored; an event with no handler is recorded and marked processed. */
export type EventHandler = (ctx: Ctx, event: string, data: Record<string, unknown>) => Promise<unknown>

/**
 * Webhook intake: a verified webhook is stored once (deduplicated), answered at once, and
 * processed after by the handler of its event name; on failure it stays unprocessed and the
 * sweeper replays it.
 */
export function createWebhooks(confirmation: Confirmation, refunds: Refunds) {
  const onRefund: EventHandler = (ctx, event, data) => refunds.applyRefundEvent(ctx, event, data)
  /** Handlers by event name; features add theirs with `on` (payouts: transfer.*). */
  const handlers: Record<string, EventHandler> = {
    'charge.success': async (ctx, _event, data) => {
      if (typeof data.reference !== 'string') return
      const confirmed = await confirmation.confirmByReference(ctx, data.reference)
      // Paystack says it took the money but its verify does not say so yet: keep the event
      // and ask again (with back-off) rather than mark it done and strand the payment.
      if (confirmed.outcome === 'not_paid' && !FINAL_NOT_PAID.has(confirmed.providerStatus))
        throw new Error(
          `Paystack's verify says ${confirmed.providerStatus} for ${data.reference}, not success yet; retried later`,
        )
    },
    'refund.pending': onRefund,
    'refund.processing': onRefund,
    'refund.processed': onRefund,
    'refund.failed': onRefund,
  }
  // Any other refund.* state reaches the refund handler too (it ignores states it does not know).
  const handlerOf = (event: string): EventHandler | undefined =>
    Object.hasOwn(handlers, event) ? handlers[event] : event.startsWith('refund.') ? onRefund : undefined

  /** Stores a verified webhook once; duplicates are no-ops. Returns the new event's id, if new. */
  async function recordWebhook(ctx: Ctx, payload: WebhookPayload, rawBody: Buffer): Promise<string | undefined> {
    const data = payload.data ?? {}
    const id = data.id
    const dedupeKey =
      id !== undefined && id !== null && id !== ''
        ? `${payload.event}:id:${String(id)}`
        : `${payload.event}:sha256:${createHash('sha256').update(rawBody).digest('hex')}`
    const reference =
      typeof data.reference === 'string'
        ? data.reference
        : typeof data.transaction_reference === 'string'
          ? data.transaction_reference
          : null
    const rows = await ctx
      .db('payment_events')
      .insert({
        provider: 'paystack',
        dedupe_key: dedupeKey,
        event: payload.event,
        reference,
        payload,
      })
      .onConflict(['provider', 'dedupe_key'])
      .ignore()
      .returning('id')
    return rows[0]?.id
  }

  /**
   * Processes a stored webhook; on failure it stays unprocessed and the sweeper retries it,
   * later after each failure (retry-schedule.ts) until Paystack's 72 h horizon.
   */
  async function processEvent(ctx: Ctx, eventId: string): Promise<void> {
    const ev = await ctx.db('payment_events').where('id', eventId).first()
    if (!ev || ev.processed_at) return
    try {
      await handlerOf(ev.event)?.(ctx, ev.event, ev.payload.data ?? {})
      await ctx
        .db('payment_events')
        .where('id', ev.id)
        .update({ processed_at: ctx.db.fn.now(), attempts: ctx.db.raw('attempts + 1'), last_error: null })
    } catch (err) {
      await ctx
        .db('payment_events')
        .where('id', ev.id)
        .update({
          attempts: ctx.db.raw('attempts + 1'),
          last_error: String((err as Error).message).slice(0, 300),
          next_attempt_at: ctx.db.raw("now() + (? * interval '1 millisecond')", [retryGapMs(ev.attempts + 1)]),
        })
      throw err
    }
  }

  /**
   * Adds the handler of an event another feature owns (payouts: `transfer.success`, ...),
   * at start-up. It throws to have the event retried later, like the handlers here.
   */
  function on(event: string, handler: EventHandler): void {
    if (Object.hasOwn(handlers, event)) throw new Error(`a handler for ${event} exists already`)
    handlers[event] = handler
  }

  return { recordWebhook, processEvent, on }
}
