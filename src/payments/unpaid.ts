import { cancelShipments, emitOrderStatus, lockOrder, releaseHolds, setPaymentStatus } from '../orders/index.js'
import type { Ctx } from '../shared/index.js'
import { expirePayment } from './payment-rows.js'
import type { PaymentsDeps } from './payments.deps.js'

/** Checkouts that end unpaid: a payment that could not be started, or a window that closed. */
export function createUnpaid(deps: PaymentsDeps) {
  const { spine } = deps

  /** Undoes a checkout whose payment could not be started: nothing stays reserved. */
  async function failCheckout(ctx: Ctx, orderId: string, message: string): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const order = await lockOrder(tx.db, orderId)
      if (!order || order.payment_status !== 'pending') return
      await releaseHolds(tx.db, orderId)
      await cancelShipments(tx.db, orderId, null, 'The payment could not be started')
      await setPaymentStatus(tx, order, 'failed', { action: 'payment.initialize_failed', note: message })
      await tx
        .db('payments')
        .where('order_id', orderId)
        .whereIn('status', ['initializing', 'pending'])
        .update({ status: 'failed', last_error: message.slice(0, 300), updated_at: tx.db.fn.now() })
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
      await setPaymentStatus(tx, order, 'expired', { action: 'payment.expired' })
      await expirePayment(tx.db, orderId)
      await emitOrderStatus(spine, tx, orderId, { userIds: [order.buyer_id] })
      return true
    })
  }

  return { failCheckout, expireOrder }
}

export type Unpaid = ReturnType<typeof createUnpaid>
