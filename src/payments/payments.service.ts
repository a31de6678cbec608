import { createHash } from 'node:crypto'
import { audit } from '../audit/index.js'
import type { CommerceDeps } from '../commerce/index.js'
import { listingStock, lockListings } from '../cart/index.js'
import { restoreRedemption } from '../coupons/index.js'
import type { Db } from '../db/index.js'
import {
  cancelShipments,
  convertToSold,
  emitOrderStatus,
  lockOrder,
  orderItems,
  queuePaidMails,
  queueRefundMail,
  releaseHolds,
  reopenShipments,
  sellersOf,
  setPaymentStatus,
  statusAfterRefunds,
  unitsByListing,
  type OrderRow,
} from '../orders/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { PaymentErrors } from './payments.errors.js'
import { amountOf, PaystackError, type PaystackRefund, type PaystackTransaction } from './paystack.client.js'

export type PaymentRow = {
  id: string
  order_id: string
  reference: string
  amount: number
  currency: string
  status: 'initializing' | 'pending' | 'success' | 'failed' | 'expired'
  provider_transaction_id: number | null
}

type RefundRow = {
  id: string
  order_id: string
  payment_id: string
  amount: number
  currency: string
  reason: string
  origin: string
  status: 'pending' | 'processing' | 'processed' | 'failed'
  provider_refund_id: number | null
  attempts: number
}

export type ConfirmOutcome =
  | { outcome: 'paid' | 'already' | 'late_refunded'; orderId: string }
  | { outcome: 'not_paid'; orderId: string; providerStatus: string }
  | { outcome: 'mismatch'; orderId: string }
  | { outcome: 'unknown_reference' }

export type WebhookPayload = { event: string; data: Record<string, unknown> }

const SYSTEM_NOTE_LATE =
  'Your payment arrived after your reservation had expired and the item was no longer available, so we refunded it in full.'

/** Our payment reference: unique, and only characters Paystack accepts (letters, digits, - . =). */
export const newReference = (orderId: string) => `oja-${orderId.replace(/-/g, '')}-${Date.now().toString(36)}`

/**
 * Payments: the one idempotent "confirm payment" step behind verify-payment, webhooks and
 * the sweeper; refunds as an outbox; webhook intake and processing; checkout expiry.
 */
export function createPaymentsService(deps: CommerceDeps) {
  const { spine, gateway, log } = deps
  const refundLeaseMs = Math.max(120_000, deps.config.PAYSTACK_TIMEOUT_MS * 3)

  /** Writes a refund to send and counts it against the order at once (so refunds can never exceed what was paid). */
  async function requestRefund(
    db: Db,
    order: OrderRow,
    input: {
      amount: number
      reason: string
      origin: 'admin' | 'buyer_cancel' | 'late_payment'
      requestedBy: string | null
      status?: OrderRow['payment_status']
    },
  ): Promise<string> {
    const payment = (await db('payments').where('order_id', order.id).first()) as PaymentRow
    const [refund] = (await db('refunds')
      .insert({
        order_id: order.id,
        payment_id: payment.id,
        amount: input.amount,
        currency: order.currency,
        reason: input.reason,
        origin: input.origin,
        requested_by: input.requestedBy,
      })
      .returning('id')) as { id: string }[]
    const refunded = order.refunded_amount + input.amount
    await setPaymentStatus(db, order.id, input.status ?? statusAfterRefunds(order.total, refunded), {
      refunded_amount: refunded,
    })
    return refund!.id
  }

  /**
   * Gives a paid order its money back when its units cannot be had (late payment, stock
   * gone, or an order cancelled before it was paid). Runs in the confirming transaction.
   */
  async function refundLatePayment(tx: TxCtx, order: OrderRow): Promise<string> {
    await releaseHolds(tx.db, order.id)
    await cancelShipments(tx.db, order.id, null, 'Payment arrived after the stock was gone; refunded')
    const refundId = await requestRefund(tx.db, order, {
      amount: order.total,
      reason: 'Payment arrived after the reservation expired and the stock was gone',
      origin: 'late_payment',
      requestedBy: null,
      status: 'refunded',
    })
    await tx.db('orders').where('id', order.id).update({ paid_at: tx.db.fn.now() })
    await audit(tx, {
      action: 'payment.late_refund',
      targetType: 'order',
      targetId: order.id,
      before: { paymentStatus: order.payment_status },
      after: { paymentStatus: 'refunded', refundId, amount: order.total },
    })
    await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] }, { sellers: false })
    await queueRefundMail(tx.db, order, order.total, SYSTEM_NOTE_LATE)
    return refundId
  }

  /**
   * Applies a verified successful payment, once: marks the order paid and turns its
   * reservations into sold units — or, when the payment came late and the units are gone,
   * refunds it. Concurrent callers serialise on the order row; all but the first find it done.
   */
  async function settle(ctx: Ctx, payment: PaymentRow, verified: PaystackTransaction): Promise<ConfirmOutcome> {
    let refundId: string | undefined
    const result = await spine.transaction(ctx, async (tx): Promise<ConfirmOutcome> => {
      const order = await lockOrder(tx.db, payment.order_id)
      if (!order) return { outcome: 'unknown_reference' }
      const current = (await tx.db('payments').where('id', payment.id).first('status')) as { status: string }
      if (current.status === 'success') return { outcome: 'already', orderId: order.id }
      await tx
        .db('payments')
        .where('id', payment.id)
        .update({
          status: 'success',
          paid_at: verified.paid_at ? new Date(verified.paid_at) : tx.db.fn.now(),
          provider_transaction_id: typeof verified.id === 'number' ? verified.id : (amountOf(verified.id) ?? null),
          updated_at: tx.db.fn.now(),
        })
      const items = await orderItems(tx.db, order.id)
      const units = unitsByListing(items)
      let unitsThere = false
      if (!order.cancelled_at) {
        await lockListings(tx.db, [...units.keys()])
        // A new statement after the lock: it sees every reservation committed before it.
        const stock = await listingStock(tx.db, [...units.keys()], { exceptOrderId: order.id })
        unitsThere = [...units].every(([id, qty]) => {
          const s = stock.get(id)
          return !!s && (s.status === 'active' || s.status === 'sold') && s.quantity - s.soldQuantity - s.held >= qty
        })
      }
      if (!unitsThere) {
        refundId = await refundLatePayment(tx, order)
        return { outcome: 'late_refunded', orderId: order.id }
      }
      await convertToSold(tx.db, order, items)
      if (order.payment_status !== 'pending') {
        // Paid after the checkout expired (or failed to start) while the units were still free.
        await reopenShipments(tx.db, order.id, 'Paid after the checkout window; the items were still available')
        await restoreRedemption(tx.db, order.id)
      }
      await setPaymentStatus(tx.db, order.id, 'paid', { paid_at: tx.db.fn.now() })
      await audit(tx, {
        action: 'payment.paid',
        targetType: 'order',
        targetId: order.id,
        before: { paymentStatus: order.payment_status },
        after: {
          paymentStatus: 'paid',
          reference: payment.reference,
          amount: payment.amount,
          currency: payment.currency,
          providerTransactionId: verified.id,
        },
      })
      await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id, ...(await sellersOf(tx.db, order.id))] })
      await queuePaidMails(tx.db, { ...order, payment_status: 'paid' }, items, deps.config.publicUrl)
      return { outcome: 'paid', orderId: order.id }
    })
    if (result.outcome === 'paid' || result.outcome === 'late_refunded') deps.mailQueued()
    if (refundId) await submitRefund(ctx, refundId)
    return result
  }

  /**
   * The one "confirm payment" step: asks Paystack itself, and only a `success` with our
   * reference, amount and currency moves the order. Paystack unreachable → 503 problem.
   */
  async function confirmByReference(ctx: Ctx, reference: string): Promise<ConfirmOutcome> {
    const payment = (await ctx.db('payments').where('reference', reference).first()) as PaymentRow | undefined
    if (!payment) return { outcome: 'unknown_reference' }
    if (payment.status === 'success') return { outcome: 'already', orderId: payment.order_id }
    let verified: PaystackTransaction
    try {
      verified = await gateway.verify(reference)
    } catch (err) {
      await ctx
        .db('payments')
        .where('id', payment.id)
        .update({ last_verified_at: ctx.db.fn.now(), last_error: String((err as Error).message).slice(0, 300) })
      if (err instanceof PaystackError && err.kind === 'rejected')
        return { outcome: 'not_paid', orderId: payment.order_id, providerStatus: 'unknown' }
      throw PaymentErrors.providerUnavailable()
    }
    await ctx
      .db('payments')
      .where('id', payment.id)
      .update({
        last_verified_at: ctx.db.fn.now(),
        gateway_response: String(verified.gateway_response ?? '').slice(0, 200) || null,
      })
    if (verified.status !== 'success')
      return { outcome: 'not_paid', orderId: payment.order_id, providerStatus: String(verified.status) }
    const amount = amountOf(verified.amount)
    if (verified.reference !== reference || amount !== payment.amount || verified.currency !== payment.currency) {
      log.warn(
        {
          reference,
          expected: { amount: payment.amount, currency: payment.currency },
          got: { reference: verified.reference, amount: verified.amount, currency: verified.currency },
        },
        'payment verification mismatch',
      )
      await audit(ctx, {
        action: 'payment.mismatch',
        targetType: 'order',
        targetId: payment.order_id,
        before: { reference, amount: payment.amount, currency: payment.currency },
        after: {
          reference: verified.reference,
          amount: verified.amount,
          currency: verified.currency,
          status: verified.status,
        },
        note: 'Paystack verification does not match the order; the order was not marked paid',
      })
      return { outcome: 'mismatch', orderId: payment.order_id }
    }
    return settle(ctx, payment, verified)
  }

  async function markRefundFailed(ctx: Ctx, refundId: string, message: string): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const r = (await tx.db('refunds').where('id', refundId).first('order_id')) as { order_id: string } | undefined
      if (!r) return
      const order = (await lockOrder(tx.db, r.order_id))!
      const [refund] = (await tx
        .db('refunds')
        .where('id', refundId)
        .whereIn('status', ['pending', 'processing'])
        .update({ status: 'failed', last_error: message.slice(0, 300), updated_at: tx.db.fn.now() })
        .returning('*')) as RefundRow[]
      if (!refund) return
      const refunded = Math.max(0, order.refunded_amount - refund.amount)
      await setPaymentStatus(tx.db, order.id, statusAfterRefunds(order.total, refunded), { refunded_amount: refunded })
      await audit(tx, {
        action: 'refund.failed',
        targetType: 'order',
        targetId: order.id,
        before: { refundId, status: 'pending' },
        after: { refundId, status: 'failed', amount: refund.amount },
        note: message.slice(0, 300),
      })
      await emitOrderStatus(spine, tx, order.id)
      const admins = tx.db('users').where('role', 'admin').select('id as user_id')
      await spine.notify(tx, admins, 'refund_failed', {
        orderId: order.id,
        refundId,
        amount: refund.amount,
        message: message.slice(0, 300),
      })
    })
  }

  async function markRefundAccepted(ctx: Ctx, refundId: string, accepted: PaystackRefund): Promise<void> {
    await ctx.db.transaction(async (trx) => {
      const updated = (await trx('refunds')
        .where('id', refundId)
        .update({
          provider_refund_id: trx.raw('coalesce(provider_refund_id, ?)', [accepted.id]),
          status: trx.raw("case when status = 'pending' then 'processing' else status end"),
          last_error: null,
          updated_at: trx.fn.now(),
        })
        .returning(['order_id', 'amount'])) as { order_id: string; amount: number }[]
      if (updated[0])
        await audit(
          { ...ctx, db: trx },
          {
            action: 'refund.submitted',
            targetType: 'order',
            targetId: updated[0].order_id,
            after: { refundId, providerRefundId: accepted.id, amount: updated[0].amount },
          },
        )
    })
  }

  /**
   * Sends one pending refund to Paystack. A lease (next_attempt_at) keeps two senders from
   * sending it twice; before a retry, Paystack's refunds of the transaction are searched
   * for ours (merchant_note), so an answer lost to a timeout does not refund twice.
   */
  async function submitRefund(ctx: Ctx, refundId: string): Promise<'processing' | 'pending' | 'failed' | 'skipped'> {
    const [r] = (await ctx
      .db('refunds')
      .where({ id: refundId, status: 'pending' })
      .where('next_attempt_at', '<=', ctx.db.fn.now())
      .update({
        attempts: ctx.db.raw('attempts + 1'),
        next_attempt_at: ctx.db.raw("now() + (? * interval '1 millisecond')", [refundLeaseMs]),
        updated_at: ctx.db.fn.now(),
      })
      .returning('*')) as RefundRow[]
    if (!r) return 'skipped'
    const payment = (await ctx.db('payments').where('id', r.payment_id).first()) as PaymentRow
    const marker = `oja-refund:${r.id}`
    try {
      let accepted: PaystackRefund | undefined
      if (r.attempts > 1 && payment.provider_transaction_id) {
        const existing = await gateway.listRefunds(payment.provider_transaction_id).catch((err: unknown) => {
          throw err instanceof PaystackError ? new PaystackError('unavailable', err.message, err.httpStatus) : err
        })
        accepted = existing.find((x) => x.merchant_note === marker)
      }
      accepted ??= await gateway.refund({
        transaction: payment.reference,
        amount: r.amount,
        currency: r.currency as 'NGN',
        merchant_note: marker,
        customer_note: r.reason.slice(0, 200),
      })
      await markRefundAccepted(ctx, r.id, accepted)
      return 'processing'
    } catch (err) {
      const message = String((err as Error).message)
      if (err instanceof PaystackError && err.kind === 'rejected') {
        log.error({ refundId, err: message }, 'Paystack refused a refund')
        await markRefundFailed(ctx, r.id, message)
        return 'failed'
      }
      const backoffMs = Math.min(60_000 * 2 ** Math.max(0, r.attempts - 1), 3_600_000)
      await ctx
        .db('refunds')
        .where({ id: r.id, status: 'pending' })
        .update({
          next_attempt_at: ctx.db.raw("now() + (? * interval '1 millisecond')", [backoffMs]),
          last_error: message.slice(0, 300),
          updated_at: ctx.db.fn.now(),
        })
      log.warn({ refundId, err: message }, 'refund not sent; will retry')
      return 'pending'
    }
  }

  /**
   * Paystack's own word on the refund a webhook speaks of, from the refunds it lists for the
   * transaction (by the webhook's id, else by amount). A signed webhook proves who sent it;
   * this also proves the refund exists, for that amount, in that state.
   */
  async function listedRefund(
    payment: PaymentRow & { provider_transaction_id: number },
    claimedId: number | undefined,
    amount: number,
    claimed: string,
  ): Promise<PaystackRefund | undefined> {
    const listed = await gateway.listRefunds(payment.provider_transaction_id)
    const candidates = listed.filter((x) =>
      claimedId !== undefined ? amountOf(x.id) === claimedId : amountOf(x.amount) === amount,
    )
    return candidates.find((x) => String(x.status) === claimed) ?? candidates[0]
  }

  /**
   * refund.* webhooks: moves our refund along; a refund made on Paystack's dashboard is
   * recorded too. The state applied is the one Paystack lists, not the webhook's claim: a
   * refund Paystack lists with another amount or currency changes nothing; one it does not
   * list yet, or an outcome it does not show yet, is retried later.
   */
  async function applyRefundEvent(ctx: Ctx, event: string, data: Record<string, unknown>): Promise<void> {
    const reference = typeof data.transaction_reference === 'string' ? data.transaction_reference : undefined
    const amount = amountOf(data.amount)
    const claimedId = amountOf(data.id)
    if (!reference || amount === undefined) return
    const payment = (await ctx.db('payments').where('reference', reference).first()) as PaymentRow | undefined
    if (!payment) return
    const claimed = event.slice('refund.'.length)
    if (!['pending', 'processing', 'processed', 'failed'].includes(claimed)) return
    if (payment.provider_transaction_id === null) {
      // Never confirmed as paid, so nothing of it can have been refunded.
      log.warn({ reference, event }, 'refund webhook for a payment that was never confirmed; ignored')
      return
    }
    const listed = await listedRefund(
      { ...payment, provider_transaction_id: payment.provider_transaction_id },
      claimedId,
      amount,
      claimed,
    )
    // Not listed (yet: Paystack's list may lag its webhook): retried by the sweeper rather
    // than dropped, since a later delivery of the same event would be a duplicate.
    if (!listed)
      throw new Error(`Paystack lists no refund ${claimedId ?? `of ${amount}`} for ${reference} yet; retried later`)
    if (amountOf(listed.amount) !== amount || (listed.currency && listed.currency !== payment.currency)) {
      log.warn(
        { reference, event, claimedId, amount, listedAmount: listed.amount },
        'refund webhook contradicts Paystack; ignored',
      )
      return
    }
    const told = String(listed.status)
    const state = told === 'processed' ? 'processed' : told === 'failed' ? 'failed' : 'processing'
    if ((claimed === 'processed' || claimed === 'failed') && state !== claimed) {
      throw new Error(`Paystack lists refund ${String(listed.id)} as ${told}, not ${claimed} yet; retried later`)
    }
    const providerId = amountOf(listed.id)
    if (state === 'failed') {
      const r = (await findRefund(ctx.db, payment, providerId, amount)) as RefundRow | undefined
      if (r) await markRefundFailed(ctx, r.id, `Paystack: refund ${told}`)
      return
    }
    await spine.transaction(ctx, async (tx) => {
      const order = (await lockOrder(tx.db, payment.order_id))!
      let r = await findRefund(tx.db, payment, providerId, amount)
      if (!r) {
        // Made outside Oja (the Paystack dashboard): record it, within what is left.
        const rest = order.total - order.refunded_amount
        if (amount <= 0 || amount > rest) return
        const [created] = (await tx
          .db('refunds')
          .insert({
            order_id: order.id,
            payment_id: payment.id,
            amount,
            currency: order.currency,
            reason: 'Refunded on Paystack',
            origin: 'provider',
            status: 'processing',
            provider_refund_id: providerId ?? null,
          })
          .returning('*')) as RefundRow[]
        r = created!
        const refunded = order.refunded_amount + amount
        await setPaymentStatus(tx.db, order.id, statusAfterRefunds(order.total, refunded), {
          refunded_amount: refunded,
        })
        await audit(tx, {
          action: 'refund.recorded',
          targetType: 'order',
          targetId: order.id,
          after: { refundId: r.id, amount, providerRefundId: providerId },
        })
      }
      if (state === 'processed' && r.status !== 'processed') {
        await tx
          .db('refunds')
          .where('id', r.id)
          .update({
            status: 'processed',
            processed_at: tx.db.fn.now(),
            provider_refund_id: tx.db.raw('coalesce(provider_refund_id, ?)', [providerId ?? null]),
            updated_at: tx.db.fn.now(),
          })
        await audit(tx, {
          action: 'refund.processed',
          targetType: 'order',
          targetId: order.id,
          after: { refundId: r.id, amount: r.amount },
        })
        await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] })
      } else if (r.status === 'pending') {
        await tx
          .db('refunds')
          .where('id', r.id)
          .update({
            status: 'processing',
            provider_refund_id: tx.db.raw('coalesce(provider_refund_id, ?)', [providerId ?? null]),
            updated_at: tx.db.fn.now(),
          })
      }
    })
  }

  async function findRefund(
    db: Db,
    payment: PaymentRow,
    providerId: number | undefined,
    amount: number,
  ): Promise<RefundRow | undefined> {
    if (providerId !== undefined) {
      const byId = (await db('refunds').where({ payment_id: payment.id, provider_refund_id: providerId }).first()) as
        RefundRow | undefined
      if (byId) return byId
    }
    return (await db('refunds')
      .where({ payment_id: payment.id, amount })
      .whereIn('status', ['pending', 'processing'])
      .modify((q) => (providerId !== undefined ? q.whereNull('provider_refund_id') : q))
      .orderBy('created_at')
      .first()) as RefundRow | undefined
  }

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
    const rows = (await ctx
      .db('payment_events')
      .insert({
        provider: 'paystack',
        dedupe_key: dedupeKey,
        event: payload.event,
        reference,
        payload: JSON.stringify(payload),
      })
      .onConflict(['provider', 'dedupe_key'])
      .ignore()
      .returning('id')) as { id: string }[]
    return rows[0]?.id
  }

  /** Processes a stored webhook; on failure it stays unprocessed and the sweeper retries it. */
  async function processEvent(ctx: Ctx, eventId: string): Promise<void> {
    const ev = (await ctx.db('payment_events').where('id', eventId).first()) as
      { id: string; event: string; payload: WebhookPayload; processed_at: Date | null } | undefined
    if (!ev || ev.processed_at) return
    try {
      const data = ev.payload.data ?? {}
      if (ev.event === 'charge.success' && typeof data.reference === 'string')
        await confirmByReference(ctx, data.reference)
      else if (ev.event.startsWith('refund.')) await applyRefundEvent(ctx, ev.event, data)
      await ctx
        .db('payment_events')
        .where('id', ev.id)
        .update({ processed_at: ctx.db.fn.now(), attempts: ctx.db.raw('attempts + 1'), last_error: null })
    } catch (err) {
      await ctx
        .db('payment_events')
        .where('id', ev.id)
        .update({ attempts: ctx.db.raw('attempts + 1'), last_error: String((err as Error).message).slice(0, 300) })
      throw err
    }
  }

  /** Undoes a checkout whose payment could not be started: nothing stays reserved. */
  async function failCheckout(ctx: Ctx, orderId: string, message: string): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const order = await lockOrder(tx.db, orderId)
      if (!order || order.payment_status !== 'pending') return
      await releaseHolds(tx.db, orderId)
      await cancelShipments(tx.db, orderId, null, 'The payment could not be started')
      await setPaymentStatus(tx.db, orderId, 'failed')
      await tx
        .db('payments')
        .where('order_id', orderId)
        .whereIn('status', ['initializing', 'pending'])
        .update({ status: 'failed', last_error: message.slice(0, 300), updated_at: tx.db.fn.now() })
      await audit(tx, {
        action: 'payment.initialize_failed',
        targetType: 'order',
        targetId: orderId,
        before: { paymentStatus: 'pending' },
        after: { paymentStatus: 'failed' },
        note: message.slice(0, 300),
      })
      await emitOrderStatus(spine, tx, orderId)
    })
  }

  /** Ends an unpaid checkout whose window has closed: reservations and coupon use are given back. */
  async function expireOrder(ctx: Ctx, orderId: string): Promise<boolean> {
    return spine.transaction(ctx, async (tx) => {
      const order = await lockOrder(tx.db, orderId)
      if (!order || order.payment_status !== 'pending' || !order.expires_at || order.expires_at.getTime() > Date.now())
        return false
      await releaseHolds(tx.db, orderId)
      await cancelShipments(tx.db, orderId, null, 'The checkout expired without payment')
      await setPaymentStatus(tx.db, orderId, 'expired')
      await tx
        .db('payments')
        .where('order_id', orderId)
        .whereIn('status', ['initializing', 'pending'])
        .update({ status: 'expired', updated_at: tx.db.fn.now() })
      await audit(tx, {
        action: 'payment.expired',
        targetType: 'order',
        targetId: orderId,
        before: { paymentStatus: 'pending' },
        after: { paymentStatus: 'expired' },
      })
      await emitOrderStatus(spine, tx, orderId, { userIds: [order.buyer_id] })
      return true
    })
  }

  /** Asks Paystack about a payment without letting a failure stop a sweep. */
  async function quietConfirm(ctx: Ctx, reference: string): Promise<ConfirmOutcome | undefined> {
    try {
      return await confirmByReference(ctx, reference)
    } catch (err) {
      log.warn({ reference, err: (err as Error).message }, 'payment re-verification failed')
      return undefined
    }
  }

  /*
   * Sweeper jobs. Each finds its due work inside the sweeper's short transaction (which holds
   * the job's advisory lock) and hands it to the background, outside that transaction: the
   * work calls Paystack and opens its own transactions, and must not hold a connection while
   * it waits (on embedded PGlite there is only one). Every step is idempotent and guarded by
   * row locks or leases, so a second node picking the same row changes nothing; the in-flight
   * set only saves this node from starting the same work twice.
   */
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

  /** Sweeper: checkouts past their window are verified once more, then expired. */
  async function expireDueCheckouts(db: Db, ctx: Ctx, limit = 50): Promise<number> {
    const due = (await db('orders as o')
      .leftJoin('payments as p', 'p.order_id', 'o.id')
      .where('o.payment_status', 'pending')
      .where('o.expires_at', '<', db.fn.now())
      .orderBy('o.expires_at')
      .limit(limit)
      .select('o.id', 'p.reference', 'p.status')) as { id: string; reference: string | null; status: string | null }[]
    const byId = new Map(due.map((o) => [o.id, o]))
    return handOver('expire', [...byId.keys()], async (orderId) => {
      const o = byId.get(orderId)!
      if (o.reference && o.status === 'pending') {
        const r = await quietConfirm(ctx, o.reference)
        if (r && (r.outcome === 'paid' || r.outcome === 'late_refunded' || r.outcome === 'already')) return
      }
      await expireOrder(ctx, orderId)
    })
  }

  /** Sweeper: pending payments a minute old are verified again (a lost webhook or redirect). */
  async function reverifyPending(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const rows = (await db('payments as p')
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
      .select('p.reference')) as { reference: string }[]
    return handOver(
      'reverify',
      rows.map((r) => r.reference),
      (reference) => quietConfirm(ctx, reference),
    )
  }

  /** Marks expired reservations released (they stopped counting at expiry); rows busy in a confirm are left for next time. */
  async function releaseExpiredReservations(db: Db): Promise<number> {
    const { rowCount } = (await db.raw(
      `update reservations set released_at = now()
       where id in (select id from reservations where released_at is null and converted_at is null and expires_at < now() limit 1000 for update skip locked)`,
    )) as { rowCount: number }
    return rowCount
  }

  async function retryRefunds(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const due = (await db('refunds')
      .where('status', 'pending')
      .where('next_attempt_at', '<=', db.fn.now())
      .orderBy('next_attempt_at')
      .limit(limit)
      .select('id')) as { id: string }[]
    return handOver(
      'refund',
      due.map((r) => r.id),
      (id) => submitRefund(ctx, id),
    )
  }

  async function replayWebhooks(db: Db, ctx: Ctx, limit = 20): Promise<number> {
    const due = (await db('payment_events')
      .whereNull('processed_at')
      .whereRaw("received_at < now() - interval '30 seconds'")
      .where('attempts', '<', 20)
      .orderBy('received_at')
      .limit(limit)
      .select('id')) as { id: string }[]
    return handOver(
      'webhook',
      due.map((e) => e.id),
      (id) => processEvent(ctx, id),
    )
  }

  return {
    confirmByReference,
    requestRefund,
    submitRefund,
    recordWebhook,
    processEvent,
    failCheckout,
    expireOrder,
    expireDueCheckouts,
    reverifyPending,
    releaseExpiredReservations,
    retryRefunds,
    replayWebhooks,
  }
}

export type PaymentsService = ReturnType<typeof createPaymentsService>
