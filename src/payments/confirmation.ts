import { audit } from '../audit/index.js'
import { listingStock, lockListings } from '../cart/index.js'
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
  type OrderRow,
} from '../orders/index.js'
import { mayStillSell } from '../listings/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { PaymentErrors } from './payments.errors.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { PaymentRow } from './payments.tables.js'
import { amountOf, PaystackError, type PaystackTransaction } from './paystack.client.js'
import type { Refunds } from './refunds.js'

export type ConfirmOutcome =
  | { outcome: 'paid' | 'already' | 'late_refunded'; orderId: string }
  | { outcome: 'not_paid'; orderId: string; providerStatus: string }
  | { outcome: 'mismatch'; orderId: string }
  | { outcome: 'unknown_reference' }

const SYSTEM_NOTE_LATE =
  'Your payment arrived after your reservation had expired and the item was no longer available, so we refunded it in full.'
const SYSTEM_NOTE_WITHDRAWN = 'The item was taken off sale before your payment arrived, so we refunded it in full.'

/** Why a payment could not take its units: they were gone, or a listing was taken off sale (removed, seller banned). */
type RefundCause = 'late' | 'withdrawn'

/**
 * The one idempotent "confirm payment" step behind verify-payment, the callback, webhooks
 * and the sweeper: Paystack is asked, and only a matching success moves the order.
 */
export function createConfirmation(deps: PaymentsDeps, refunds: Refunds) {
  const { spine, gateway, log } = deps

  /**
   * Gives a paid order its money back when its units cannot be had (late payment, stock
   * gone, or an order cancelled before it was paid). Runs in the confirming transaction.
   */
  async function refundLatePayment(tx: TxCtx, order: OrderRow, cause: RefundCause = 'late'): Promise<string> {
    const withdrawn = cause === 'withdrawn'
    await releaseHolds(tx.db, order.id)
    await cancelShipments(
      tx.db,
      order.id,
      null,
      withdrawn
        ? 'Payment arrived after the item was taken off sale; refunded'
        : 'Payment arrived after the stock was gone; refunded',
    )
    const refundId = await refunds.requestRefund(tx.db, order, {
      amount: order.total,
      reason: withdrawn
        ? 'Payment arrived after a listing was taken off sale'
        : 'Payment arrived after the reservation expired and the stock was gone',
      origin: 'late_payment',
      requestedBy: null,
      status: 'refunded',
    })
    await markPaidAt(tx.db, order.id)
    await audit(tx, {
      action: 'payment.late_refund',
      targetType: 'order',
      targetId: order.id,
      before: { paymentStatus: order.payment_status },
      after: { paymentStatus: 'refunded', refundId, amount: order.total },
    })
    await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] }, { sellers: false })
    await queueRefundMail(tx.db, order, order.total, withdrawn ? SYSTEM_NOTE_WITHDRAWN : SYSTEM_NOTE_LATE)
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
      const units = unitsByListing(items)
      let unitsThere = false
      let cause: RefundCause = 'late'
      if (!order.cancelled_at) {
        await lockListings(tx.db, [...units.keys()])
        // A new statement after the lock: it sees every reservation committed before it.
        const stock = await listingStock(tx.db, [...units.keys()], { exceptOrderId: order.id })
        // A listing taken off sale (removed, its seller banned) sells nothing, even to a
        // payment made within its reservation: the buyer gets the money back.
        if ([...units.keys()].some((id) => stock.has(id) && !mayStillSell(stock.get(id)!))) cause = 'withdrawn'
        unitsThere = [...units].every(([id, qty]) => {
          const s = stock.get(id)
          return !!s && mayStillSell(s) && s.quantity - s.soldQuantity - s.held >= qty
        })
      }
      if (!unitsThere) {
        refundId = await refundLatePayment(tx, order, cause)
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

  return { confirmByReference }
}

export type Confirmation = ReturnType<typeof createConfirmation>
