import { audit } from '../audit/index.js'
import { lockListings } from '../cart/index.js'
import { releaseRedemption } from '../coupons/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { HANDOVER_TRIES, type Ledger } from '../ledger/index.js'
import { expirePayment, paymentOf, PaymentErrors, refundById, type PaymentsService } from '../payments/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import {
  canSeeOrder,
  cancelShipments,
  emitOrderStatus,
  honouredOrderSql,
  lockOrder,
  orderItems,
  PAID_STATES,
  releaseHolds,
  returnToStock,
  sellersOf,
  setPaymentStatus,
  unitsByListing,
} from './order-lifecycle.js'
import { OrderErrors } from './orders.errors.js'
import type { Order, ShipmentStatusBody } from './orders.schemas.js'
import type { OrderItemRow, OrderRow, ShipmentRow, ShipmentStatus } from './orders.tables.js'
import { itemView, orderView, orderViews, sellerAddress, shipmentViews, type Viewer } from './orders.views.js'

type ActorCtx = Ctx & { actor: Actor }

const viewerOf = (actor: Actor): Viewer => ({ userId: actor.id, role: actor.role })

/** The seller's moves, in order; a seller may skip ahead (a hand-over is pending → delivered). */
const SELLER_STEPS: ShipmentStatus[] = ['pending', 'sent', 'en_route', 'delivered']

/** What the orders service needs: the event spine, and payments for refunds and verification. */
export type OrdersDeps = { spine: EventSpine; payments: PaymentsService; ledger: Ledger }

/** Orders, sales and shipments: reading, moving shipments on, cancelling, refunding. */
export function createOrdersService(deps: OrdersDeps) {
  const { spine, payments, ledger } = deps

  /** The shipment arrived (the buyer said so, or the seller entered the buyer's code): its money is released. */
  async function markReceived(
    tx: TxCtx,
    order: OrderRow,
    shipment: ShipmentRow,
    actorId: string,
    how: 'received' | 'handover',
  ): Promise<void> {
    await tx
      .db('shipments')
      .where('id', shipment.id)
      .update({ status: 'received', received_at: tx.db.fn.now(), updated_at: tx.db.fn.now() })
    await tx.db('shipment_history').insert({
      shipment_id: shipment.id,
      from_status: shipment.status,
      status: 'received',
      actor_id: actorId,
      note: how === 'handover' ? "Handed over: the seller entered the buyer's code" : 'Received by the buyer',
    })
    await ledger.release(tx, shipment.id, how, actorId)
    await emitOrderStatus(spine, tx, order.id, {
      userIds: [how === 'handover' ? order.buyer_id : shipment.seller_id],
      shipmentId: shipment.id,
      status: 'received',
    })
  }

  async function visibleOrder(ctx: ActorCtx, orderId: string): Promise<OrderRow> {
    const order = await ctx.db('orders').where('id', orderId).first()
    if (!order || !(await canSeeOrder(ctx.db, order, ctx.actor))) throw Errors.notFound('Order')
    return order
  }

  /** Locks a shipment's order, then the shipment (the order-first lock order of cancel). */
  async function lockShipment(
    db: Db,
    actor: Actor,
    shipmentId: string,
  ): Promise<{ order: OrderRow; shipment: ShipmentRow }> {
    const ref = await db('shipments').where('id', shipmentId).first('order_id')
    if (!ref) throw Errors.notFound('Shipment')
    const order = await lockOrder(db, ref.order_id)
    const shipment = await db('shipments').where('id', shipmentId).forUpdate().first()
    if (!order || !shipment) throw Errors.notFound('Shipment')
    if (order.buyer_id !== actor.id && shipment.seller_id !== actor.id && actor.role !== 'admin')
      throw Errors.notFound('Shipment')
    return { order, shipment }
  }

  return {
    async list(ctx: ActorCtx, q: { paymentStatus?: string; limit?: number; cursor?: string }) {
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 2, 'orders') as [string, string] | undefined
      const query = ctx.db('orders').where('buyer_id', ctx.actor.id)
      if (q.paymentStatus) query.where('payment_status', q.paymentStatus)
      if (after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', after)
      const rows = await query
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select<(OrderRow & { cursor_at: string })[]>('*', ctx.db.raw("to_json(created_at) #>> '{}' as cursor_at"))
      // Full-precision timestamps in cursors: a JS Date keeps only milliseconds and would skip rows.
      const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'orders')
      return { items: await orderViews(ctx.db, page.items, viewerOf(ctx.actor)), nextCursor: page.nextCursor }
    },

    async get(ctx: ActorCtx, orderId: string): Promise<Order> {
      await visibleOrder(ctx, orderId)
      return orderView(ctx.db, orderId, viewerOf(ctx.actor))
    },

    /** A seller's shipments of honoured orders (paid, not a late payment refunded), newest first. */
    async sales(ctx: ActorCtx, q: { status?: string; limit?: number; cursor?: string }) {
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 2, 'sales') as [string, string] | undefined
      const query = ctx
        .db('shipments as s')
        .join('orders as o', 'o.id', 's.order_id')
        .where('s.seller_id', ctx.actor.id)
        .whereRaw(honouredOrderSql('o'))
      if (q.status) query.where('s.status', q.status)
      if (after) query.andWhereRaw('(s.created_at, s.id) < (?::timestamptz, ?::uuid)', after)
      const rows = await query
        .orderBy([
          { column: 's.created_at', order: 'desc' },
          { column: 's.id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select<
          (ShipmentRow & Pick<OrderRow, 'buyer_id' | 'payment_status' | 'shipping_address'> & { cursor_at: string })[]
        >(
          's.*',
          'o.buyer_id',
          'o.payment_status',
          'o.shipping_address',
          ctx.db.raw("to_json(s.created_at) #>> '{}' as cursor_at"),
        )
      const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'sales')
      const shipments = await shipmentViews(ctx.db, page.items)
      const items: OrderItemRow[] = page.items.length
        ? await ctx
            .db('order_items')
            .whereIn(
              'shipment_id',
              page.items.map((r) => r.id),
            )
            .orderBy([{ column: 'created_at' }, { column: 'id' }])
        : []
      return {
        items: page.items.map((r, i) => ({
          shipment: shipments[i]!,
          orderId: r.order_id,
          buyerId: r.buyer_id,
          paymentStatus: r.payment_status,
          shippingAddress: sellerAddress(r, true, [r]),
          items: items.filter((it) => it.shipment_id === r.id).map(itemView),
          createdAt: r.created_at.toISOString(),
        })),
        nextCursor: page.nextCursor,
      }
    },

    /** The seller moves its shipment on: sent, en route, delivered (forward only). */
    async moveShipment(ctx: ActorCtx, shipmentId: string, body: ShipmentStatusBody): Promise<Order> {
      await spine.transaction(ctx, async (tx) => {
        const { order, shipment } = await lockShipment(tx.db, ctx.actor, shipmentId)
        if (shipment.seller_id !== ctx.actor.id) throw OrderErrors.sellerOnly()
        const from = SELLER_STEPS.indexOf(shipment.status)
        const to = SELLER_STEPS.indexOf(body.status)
        if (from < 0 || to <= from) throw OrderErrors.invalidTransition(shipment.status, body.status)
        if (!PAID_STATES.includes(order.payment_status) || order.cancelled_at) throw OrderErrors.notPaid()
        const now = tx.db.fn.now()
        await tx
          .db('shipments')
          .where('id', shipmentId)
          .update({
            status: body.status,
            tracking_number: body.trackingNumber ?? shipment.tracking_number,
            carrier: body.carrier ?? shipment.carrier,
            ...(to >= 1 ? { sent_at: tx.db.raw('coalesce(sent_at, now())') } : {}),
            ...(body.status === 'delivered' ? { delivered_at: now } : {}),
            updated_at: now,
          })
        await tx.db('shipment_history').insert({
          shipment_id: shipmentId,
          from_status: shipment.status,
          status: body.status,
          actor_id: ctx.actor.id,
          tracking_number: body.trackingNumber ?? null,
          carrier: body.carrier ?? null,
          note: body.note ?? null,
        })
        await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id], shipmentId, status: body.status })
      })
      const moved = await ctx.db('shipments').where('id', shipmentId).first('order_id')
      return orderView(ctx.db, moved!.order_id, viewerOf(ctx.actor))
    },

    /** The buyer confirms a delivered shipment arrived; this is what opens reviews. */
    async confirmReceived(ctx: ActorCtx, shipmentId: string): Promise<Order> {
      let orderId = ''
      await spine.transaction(ctx, async (tx) => {
        const { order, shipment } = await lockShipment(tx.db, ctx.actor, shipmentId)
        orderId = order.id
        if (order.buyer_id !== ctx.actor.id) throw OrderErrors.buyerOnly()
        if (shipment.status !== 'delivered') throw OrderErrors.invalidTransition(shipment.status, 'received')
        await markReceived(tx, order, shipment, ctx.actor.id, 'received')
      })
      return orderView(ctx.db, orderId, viewerOf(ctx.actor))
    },

    /**
     * The seller enters the buyer's 6-digit code at a meet-up: the shipment is received and its
     * money released. A wrong code is counted (committed) before it is refused; the 5th locks.
     */
    async handover(ctx: ActorCtx, shipmentId: string, code: string): Promise<Order> {
      const outcome = await spine.transaction(ctx, async (tx) => {
        const { order, shipment } = await lockShipment(tx.db, ctx.actor, shipmentId)
        if (shipment.seller_id !== ctx.actor.id) throw OrderErrors.sellerOnly()
        if (!PAID_STATES.includes(order.payment_status) || order.cancelled_at) throw OrderErrors.notPaid()
        if (shipment.status === 'received' || shipment.status === 'cancelled')
          throw OrderErrors.invalidTransition(shipment.status, 'received')
        const attempt = await ledger.handoverAttempt(tx.db, shipmentId, code)
        if (attempt === 'ok') await markReceived(tx, order, shipment, ctx.actor.id, 'handover')
        return { attempt, orderId: order.id }
      })
      if (outcome.attempt === 'none') throw OrderErrors.noHandover()
      if (outcome.attempt === 'locked') throw OrderErrors.handoverLocked()
      if (outcome.attempt === 'wrong') {
        const m = await ledger.escrowOf(ctx.db, shipmentId)
        throw OrderErrors.handoverWrong(Math.max(0, HANDOVER_TRIES - (m?.handover_failures ?? 0)))
      }
      return orderView(ctx.db, outcome.orderId, viewerOf(ctx.actor))
    },

    /**
     * The buyer cancels before anything was sent. An unpaid order lets its reservations go;
     * a paid one puts its units back on sale and is refunded through Paystack.
     */
    async cancel(ctx: ActorCtx, orderId: string): Promise<Order> {
      let refundId: string | undefined
      await spine.transaction(ctx, async (tx) => {
        const order = await lockOrder(tx.db, orderId)
        if (!order || !(await canSeeOrder(tx.db, order, ctx.actor))) throw Errors.notFound('Order')
        if (order.buyer_id !== ctx.actor.id) throw OrderErrors.buyerOnly()
        if (order.cancelled_at) throw OrderErrors.notCancellable('The order is already cancelled')
        const moving = await tx.db('shipments').where('order_id', orderId).whereNot('status', 'pending').first('id')
        if (moving) throw OrderErrors.notCancellable('Part of the order has already been sent')
        const wasPaid = PAID_STATES.includes(order.payment_status)
        if (order.payment_status !== 'pending' && !wasPaid)
          throw OrderErrors.notCancellable(`The order is ${order.payment_status}`)
        await cancelShipments(tx.db, orderId, ctx.actor.id, 'Cancelled by the buyer')
        await tx
          .db('orders')
          .where('id', orderId)
          .update({ cancelled_at: tx.db.fn.now(), cancel_reason: 'buyer', updated_at: tx.db.fn.now() })
        if (wasPaid) {
          const items = await orderItems(tx.db, orderId)
          await lockListings(tx.db, [...unitsByListing(items).keys()])
          await returnToStock(tx.db, items)
          await releaseRedemption(tx.db, orderId)
          const rest = order.total - order.refunded_amount
          if (rest > 0)
            refundId = await payments.requestRefund(tx, order, {
              amount: rest,
              reason: 'Cancelled by the buyer before shipping',
              origin: 'buyer_cancel',
              requestedBy: ctx.actor.id,
              action: 'order.cancelled',
            })
          else
            await audit(tx, {
              action: 'order.cancelled',
              targetType: 'order',
              targetId: orderId,
              before: { paymentStatus: order.payment_status },
              after: { paymentStatus: order.payment_status, refundId: null },
            })
        } else {
          await releaseHolds(tx.db, orderId)
          await setPaymentStatus(tx, order, 'expired', { action: 'order.cancelled', after: { refundId: null } })
          await expirePayment(tx.db, orderId)
        }
        await emitOrderStatus(spine, tx, orderId, {
          userIds: [order.buyer_id, ...(wasPaid ? await sellersOf(tx.db, orderId) : [])],
        })
      })
      if (refundId) await payments.submitRefund(ctx, refundId)
      return orderView(ctx.db, orderId, viewerOf(ctx.actor))
    },

    /** Admin refund, full (the default) or partial, through Paystack. */
    async adminRefund(ctx: ActorCtx, orderId: string, body: { amount?: number; reason: string }) {
      const refundId = await spine.transaction(ctx, async (tx) => {
        const order = await lockOrder(tx.db, orderId)
        if (!order) throw Errors.notFound('Order')
        if (!PAID_STATES.includes(order.payment_status))
          throw OrderErrors.notRefundable(`The order is ${order.payment_status}`)
        const payment = await paymentOf(tx.db, orderId)
        if (payment?.status !== 'success') throw OrderErrors.notRefundable('The order was not paid through Paystack')
        const rest = order.total - order.refunded_amount
        const amount = body.amount ?? rest
        if (amount > rest || rest <= 0) throw OrderErrors.refundTooLarge(rest)
        const id = await payments.requestRefund(tx, order, {
          amount,
          reason: body.reason,
          origin: 'admin',
          requestedBy: ctx.actor.id,
          action: 'admin.order_refunded',
          note: body.reason,
        })
        await emitOrderStatus(spine, tx, orderId, { userIds: [order.buyer_id] })
        return id
      })
      const outcome = await payments.submitRefund(ctx, refundId)
      const refund = await refundById(ctx.db, refundId)
      if (!refund) throw Errors.notFound('Refund')
      if (outcome === 'failed') throw PaymentErrors.refundRejected(refund.last_error ?? 'refused')
      return {
        status: (outcome === 'processing' ? 201 : 202) as 201 | 202,
        body: {
          order: await orderView(ctx.db, orderId, viewerOf(ctx.actor)),
          refund: {
            id: refund.id,
            amount: refund.amount,
            currency: refund.currency,
            reason: refund.reason,
            origin: refund.origin,
            status: refund.status,
            createdAt: refund.created_at.toISOString(),
            processedAt: refund.processed_at ? refund.processed_at.toISOString() : null,
          },
        },
      }
    },

    /** The app's call after the Paystack redirect: the server asks Paystack, never the client. */
    async verifyPayment(ctx: ActorCtx, orderId: string): Promise<Order> {
      const order = await visibleOrder(ctx, orderId)
      if (order.buyer_id !== ctx.actor.id && ctx.actor.role !== 'admin') throw OrderErrors.buyerOnly()
      const payment = await paymentOf(ctx.db, orderId)
      if (payment) {
        const result = await payments.confirmByReference(ctx, payment.reference)
        if (result.outcome === 'not_paid')
          throw PaymentErrors.notVerified(
            `Paystack reports this payment as ${result.providerStatus}`,
            result.providerStatus,
          )
        if (result.outcome === 'mismatch')
          throw PaymentErrors.notVerified('The payment Paystack reports does not match this order')
      }
      return orderView(ctx.db, orderId, viewerOf(ctx.actor))
    },
  }
}

export type OrdersService = ReturnType<typeof createOrdersService>
