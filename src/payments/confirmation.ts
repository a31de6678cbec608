import { audit } from '../audit/index.js'
import { CartErrors, lineRefusal, listingStock, lockListings } from '../cart/index.js'
import { restoreRedemption } from '../coupons/index.js'
import {
  cancelShipments,
  convertToSold,
  emitOrderStatus,
  lockOrder,
  markPaidAt,
  orderItems,
  queuePaidMails,
  queueRefundMail,
  releaseHolds,
  reopenShipments,
  sellersOf,
  setPaymentStatus,
  unitsByListing,
  type OrderItemRow,
  type OrderRow,
} from '../orders/index.js'
import { mayStillSell } from '../listings/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { PaymentErrors } from './payments.errors.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { PaymentRow } from './payments.tables.js'
import { amountOf, PaystackError, type PaystackTransaction } from './paystack.client.js'
import type { Refunds } from './refunds.js'
import { retryGapMs } from './retry-schedule.js'
import type { Unsettled } from './unsettled.js'

export type ConfirmOutcome =
  | { outcome: 'paid' | 'already' | 'late_refunded'; orderId: string }
  | { outcome: 'not_paid'; orderId: string; providerStatus: string }
  | { outcome: 'mismatch'; orderId: string }
  | { outcome: 'unknown_reference' }

/** Why a confirmed payment gets a refund instead of its goods: a rule's code (or `cancelled`) and its words. */
type Refusal = { reason: string; message: string }

const CANCELLED: Refusal = { reason: 'cancelled', message: 'The order was cancelled before its payment arrived' }
const WITHDRAWN: Refusal = { reason: 'withdrawn', message: 'A listing was taken off sale before the payment arrived' }

/** What the buyer is told (mail) about a late payment refunded for this reason. */
function lateNote(refusal: Refusal): string {
  const why =
    refusal.reason === 'cancelled'
      ? 'You had cancelled this order before your payment arrived'
      : refusal.reason === 'withdrawn'
        ? 'The item was taken off sale before your payment arrived'
        : refusal.reason === 'OFFER_NO_LONGER_VALID'
          ? 'Your payment arrived after your checkout had expired, and the accepted offer it was priced with had expired or been used for another order meanwhile'
          : refusal.reason === 'GIVEAWAY_LIMIT'
            ? 'Your payment arrived after your checkout had expired, and you had meanwhile received this giveaway in another order (one per person)'
            : refusal.reason.startsWith('COUPON_')
              ? `Your payment arrived after your checkout had expired, and its coupon could no longer be used (${refusal.message.toLowerCase()})`
              : 'Your payment arrived after your reservation had expired and the item was no longer available'
  return `${why}, so we refunded it in full.`
}

/**
 * The one idempotent "confirm payment" step behind verify-payment, the callback, webhooks
 * and the sweeper: Paystack is asked, and only a matching success moves the order.
 */
export function createConfirmation(deps: PaymentsDeps, refunds: Refunds, unsettled: Unsettled) {
  const { spine, gateway, log } = deps

  /**
   * Why a verified payment cannot be given its goods, or undefined. An order cancelled before
   * it was paid cannot. One still waiting for its payment kept its holds on an offer, a
   * giveaway and a coupon use, and needs only its units (its reservation may have lapsed).
   * One whose checkout ended (expired, or failed to start) let every hold go: it is honoured
   * only if every rule of checkout holds now, as checkout itself states them (lineRefusal,
   * and the coupon's limits, whose use is then counted again). Takes the listing locks.
   */
  async function refusalOf(tx: TxCtx, order: OrderRow, items: OrderItemRow[]): Promise<Refusal | undefined> {
    if (order.cancelled_at) return CANCELLED
    const units = unitsByListing(items)
    const late = order.payment_status !== 'pending'
    await lockListings(tx.db, [...units.keys()])
    // A new statement after the lock: it sees every reservation committed before it.
    const stock = await listingStock(tx.db, [...units.keys()], {
      exceptOrderId: order.id,
      ...(late ? { buyerId: order.buyer_id } : {}),
    })
    // A listing taken off sale (removed, its seller banned) sells nothing, even to a payment
    // made within its reservation: the buyer gets the money back.
    if ([...units.keys()].some((id) => stock.has(id) && !mayStillSell(stock.get(id)!))) return WITHDRAWN
    for (const [listingId, quantity] of units) {
      const s = stock.get(listingId)
      const refusal = late
        ? lineRefusal(s, order.buyer_id, {
            listingId,
            quantity,
            offerId: items.find((i) => i.listing_id === listingId && i.offer_id)?.offer_id ?? null,
          })
        : !s || s.quantity - s.soldQuantity - s.held < quantity
          ? CartErrors.outOfStock(listingId, s?.available ?? 0)
          : undefined
      if (refusal) return { reason: refusal.code, message: refusal.message }
    }
    if (late) {
      const refusal = await restoreRedemption(tx.db, order)
      if (refusal) return { reason: refusal.code, message: refusal.message }
    }
    return undefined
  }

  /**
   * Gives a paid order its money back when it cannot have its goods (see refusalOf). Runs in
   * the confirming transaction.
   */
  async function refundLatePayment(tx: TxCtx, order: OrderRow, refusal: Refusal, paystackFee: number): Promise<string> {
    // The money was taken but buys nothing: held as unmatched until its refund goes out.
    await deps.ledger.capture(tx, { order, lines: [], honoured: false, paystackFee })
    await releaseHolds(tx.db, order.id)
    await cancelShipments(tx.db, order.id, null, 'Payment arrived when the order could no longer be had; refunded')
    const refundId = await refunds.requestRefund(tx, order, {
      amount: order.total,
      reason:
        refusal.reason === 'cancelled'
          ? 'Payment arrived after the order was cancelled'
          : refusal.reason === 'withdrawn'
            ? 'Payment arrived after a listing was taken off sale'
            : `Payment arrived after the checkout expired: ${refusal.message}`,
      origin: 'late_payment',
      requestedBy: null,
      status: 'refunded',
      action: 'payment.late_refund',
      after: { refusal: refusal.reason },
      note: refusal.message,
    })
    await markPaidAt(tx.db, order.id)
    await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] }, { sellers: false })
    await queueRefundMail(tx.db, order, order.total, lateNote(refusal))
    return refundId
  }

  /**
   * Applies a verified successful payment, once: marks the order paid and turns its
   * reservations into sold units — or, when the order can no longer be had (a late payment
   * that breaks a checkout rule, or a cancelled order), refunds it. Concurrent callers
   * serialise on the order row; all but the first find it done.
   */
  async function settle(ctx: Ctx, payment: PaymentRow, verified: PaystackTransaction): Promise<ConfirmOutcome> {
    let refundId: string | undefined
    const result = await spine.transaction(ctx, async (tx): Promise<ConfirmOutcome> => {
      const order = await lockOrder(tx.db, payment.order_id)
      if (!order) return { outcome: 'unknown_reference' }
      const current = await tx.db('payments').where('id', payment.id).first('status')
      if (current?.status === 'success') return { outcome: 'already', orderId: order.id }
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
      const refusal = await refusalOf(tx, order, items)
      const paystackFee = amountOf(verified.fees) ?? 0
      if (refusal) {
        refundId = await refundLatePayment(tx, order, refusal, paystackFee)
        return { outcome: 'late_refunded', orderId: order.id }
      }
      await convertToSold(tx.db, order, items)
      if (order.payment_status !== 'pending') {
        // Paid after the checkout expired (or failed to start) while every rule still held.
        await reopenShipments(tx.db, order.id, 'Paid after the checkout window; the items were still available')
      }
      await setPaymentStatus(tx, order, 'paid', {
        action: 'payment.paid',
        paid_at: tx.db.fn.now(),
        after: {
          reference: payment.reference,
          amount: payment.amount,
          currency: payment.currency,
          providerTransactionId: verified.id,
        },
      })
      // The sellers' shares go to their pending balances (escrow) until the trade is done.
      await deps.ledger.capture(tx, {
        order,
        lines: items.map((i) => ({
          shipmentId: i.shipment_id,
          sellerId: i.seller_id,
          unitPrice: i.unit_price,
          quantity: i.quantity,
        })),
        honoured: true,
        paystackFee,
      })
      await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id, ...(await sellersOf(tx.db, order.id))] })
      await queuePaidMails(tx.db, { ...order, payment_status: 'paid' }, items, deps.config.publicUrl)
      return { outcome: 'paid', orderId: order.id }
    })
    if (result.outcome === 'paid' || result.outcome === 'late_refunded') deps.mailQueued()
    if (refundId) await refunds.submitRefund(ctx, refundId)
    return result
  }

  /**
   * The one "confirm payment" step: asks Paystack itself, and only a `success` with our
   * reference, amount and currency moves the order. Paystack unreachable → 503 problem.
   */
  async function confirmByReference(ctx: Ctx, reference: string): Promise<ConfirmOutcome> {
    const payment = await ctx.db('payments').where('reference', reference).first()
    if (!payment) return { outcome: 'unknown_reference' }
    if (payment.status === 'success') return { outcome: 'already', orderId: payment.order_id }
    let verified: PaystackTransaction
    try {
      verified = await gateway.verify(reference)
    } catch (err) {
      const rejected = err instanceof PaystackError && err.kind === 'rejected'
      // Paystack could not be asked: the sweeps ask again, later and later (retry-schedule.ts).
      const failures = rejected ? 0 : payment.verify_attempts + 1
      await ctx
        .db('payments')
        .where('id', payment.id)
        .update({
          last_verified_at: ctx.db.fn.now(),
          last_error: String((err as Error).message).slice(0, 300),
          verify_attempts: failures,
          next_verify_at: rejected
            ? null
            : ctx.db.raw("now() + (? * interval '1 millisecond')", [retryGapMs(failures)]),
        })
      if (rejected) return { outcome: 'not_paid', orderId: payment.order_id, providerStatus: 'unknown' }
      throw PaymentErrors.providerUnavailable()
    }
    await ctx
      .db('payments')
      .where('id', payment.id)
      .update({
        last_verified_at: ctx.db.fn.now(),
        gateway_response: String(verified.gateway_response ?? '').slice(0, 200) || null,
        verify_attempts: 0,
        next_verify_at: null,
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
      // Paystack holds money Oja cannot match to the order: no goods, no automatic refund.
      await unsettled.raise(ctx, {
        reference,
        orderId: payment.order_id,
        kind: 'amount_mismatch',
        paystackAmount: amount ?? null,
        ojaAmount: payment.amount,
        currency: typeof verified.currency === 'string' ? verified.currency.slice(0, 3) : null,
        detail: `Paystack reports ${String(verified.status)} for ${String(verified.reference)}: ${String(verified.amount)} ${String(verified.currency)}; the order expects ${payment.amount} ${payment.currency}`,
      })
      return { outcome: 'mismatch', orderId: payment.order_id }
    }
    return settle(ctx, payment, verified)
  }

  return { confirmByReference }
}

export type Confirmation = ReturnType<typeof createConfirmation>
