import { audit } from '../audit/index.js'
import { convertReservations, releaseReservations, removeBoughtFromCart } from '../cart/index.js'
import { releaseRedemption } from '../coupons/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { recordSales, returnSales } from '../listings/index.js'
import { enqueueMail } from '../mail/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import type { OrderItemRow, OrderRow, PaymentStatus, ShipmentRow, ShipmentStatus } from './orders.tables.js'
import type { OrderStatusEvent } from './orders.schemas.js'
import { latePaymentRefundSql, type RefundRow } from '../payments/index.js'

/*
 * The steps that move an order's stock and state, shared by checkout, payment confirmation,
 * cancellation, expiry and refunds. Each runs inside the caller's transaction; callers lock
 * rows in one order everywhere: the order row, then listings by id, then coupons.
 */

/** States of an order whose money we hold (wholly or in part). */
export const PAID_STATES: PaymentStatus[] = ['paid', 'partially_refunded']

/**
 * The one definition of "a live order" as SQL over the orders row `o`: one that still holds
 * or owns its lines (not failed, not abandoned, not cancelled).
 */
export function liveOrderSql(o = 'o'): string {
  return `${o}.payment_status not in ('failed','expired') and ${o}.cancelled_at is null`
}

/**
 * The one definition of "an honoured order" as SQL over the orders row `o`: its money was
 * taken and its units are (or were) the buyer's — paid, or a zero total confirmed at once.
 * A payment that came late and was refunded because its units were gone was never honoured,
 * whatever became of that refund (pending, done, or refused by Paystack and left to admins).
 * Only an honoured order is its sellers' business: a sale, its events, the buyer's address.
 */
export function honouredOrderSql(o = 'o'): string {
  return `(${o}.paid_at is not null and not ${latePaymentRefundSql(o)})`
}

/** honouredOrderSql over rows already loaded: the order and (at least) its refunds. */
export function isHonoured(
  order: Pick<OrderRow, 'id' | 'paid_at'>,
  refunds: Pick<RefundRow, 'order_id' | 'origin'>[],
): boolean {
  return order.paid_at !== null && !refunds.some((r) => r.order_id === order.id && r.origin === 'late_payment')
}

/**
 * The one definition of "who may see an order": its buyer, an admin, or a seller of one of
 * its lines once the order is honoured (their own part only; see buildOrderViews). An
 * unpaid checkout, or a late payment refunded, is nothing to its sellers.
 */
export async function canSeeOrder(db: Db, order: Pick<OrderRow, 'id' | 'buyer_id'>, actor: Actor): Promise<boolean> {
  if (actor.role === 'admin' || order.buyer_id === actor.id) return true
  const { rows } = await db.raw<{ rows: { visible: boolean }[] }>(
    `select ${orderVisibleSql('o', ':viewerId::uuid')} as visible from orders o where o.id = :orderId::uuid`,
    { viewerId: actor.id, orderId: order.id },
  )
  return rows[0]?.visible === true
}

/**
 * canSeeOrder as SQL over the orders row `o`, for a viewer who is not an admin (an admin
 * sees every order); `viewer` is an SQL expression such as `:viewerId::uuid`.
 */
export function orderVisibleSql(o: string, viewer: string): string {
  return `(${o}.buyer_id = ${viewer} or (${honouredOrderSql(o)} and exists (select 1 from shipments vs where vs.order_id = ${o}.id and vs.seller_id = ${viewer})))`
}

export async function lockOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  return db('orders').where('id', orderId).forUpdate().first()
}

export async function orderItems(db: Db, orderId: string): Promise<OrderItemRow[]> {
  return db('order_items').where('order_id', orderId).orderBy('created_at').orderBy('id')
}

/** Units per listing in an order. */
export function unitsByListing(items: OrderItemRow[]): Map<string, number> {
  const units = new Map<string, number>()
  for (const i of items) if (i.listing_id) units.set(i.listing_id, (units.get(i.listing_id) ?? 0) + i.quantity)
  return units
}

/**
 * Turns the order's units into sold stock: sold_quantity grows (a listing with none left
 * becomes `sold`), the reservations are converted, and the buyer's cart lines for them go.
 * The caller has checked, under the listing locks, that the units are there.
 */
export async function convertToSold(
  db: Db,
  order: Pick<OrderRow, 'id' | 'buyer_id' | 'coupon_id'>,
  items: OrderItemRow[],
): Promise<void> {
  const units = unitsByListing(items)
  await recordSales(db, units)
  await convertReservations(db, order.id)
  await removeBoughtFromCart(db, order.buyer_id, [...units.keys()], order.coupon_id)
}

/** Puts sold units back on sale (a paid order cancelled before shipping). */
export async function returnToStock(db: Db, items: OrderItemRow[]): Promise<void> {
  await returnSales(db, unitsByListing(items))
}

/** Lets go of what an unpaid order held: its reservations and its coupon use. */
export async function releaseHolds(db: Db, orderId: string): Promise<void> {
  await releaseReservations(db, orderId)
  await releaseRedemption(db, orderId)
}

/** Cancels every shipment of an order that is not yet cancelled, with a history line each. */
export async function cancelShipments(db: Db, orderId: string, actorId: string | null, note: string): Promise<void> {
  await db.raw(
    `with old as (
       select id, status from shipments where order_id = ? and status <> 'cancelled' for update
     ), cancelled as (
       update shipments s set status = 'cancelled', cancelled_at = now(), updated_at = now() from old where s.id = old.id returning s.id
     )
     insert into shipment_history (shipment_id, from_status, status, actor_id, note)
     select old.id, old.status, 'cancelled', ?, ? from old join cancelled using (id)`,
    [orderId, actorId, note],
  )
}

/** Re-opens an order's cancelled shipments (an expired checkout paid late, stock still there). */
export async function reopenShipments(db: Db, orderId: string, note: string): Promise<void> {
  const rows = await db('shipments')
    .where({ order_id: orderId, status: 'cancelled' })
    .update({ status: 'pending', cancelled_at: null, updated_at: db.fn.now() })
    .returning('id')
  if (rows.length > 0)
    await db('shipment_history').insert(
      rows.map((r) => ({ shipment_id: r.id, from_status: 'cancelled', status: 'pending', note })),
    )
}

/** What an audit row needs of the context: its transaction, and who acts (none for a system job). */
export type AuditCtx = Pick<Ctx, 'actor' | 'requestId'> & { db: Db }

/**
 * The one way an order's payment status (or its refunded amount) changes: the row is updated
 * and an audit row with the status before and after is written, in the caller's transaction.
 * `action` names the event (`payment.paid`, `refund.failed`, ...); `after` adds its details.
 * (Lint refuses a `payment_status` write anywhere else.)
 */
export async function setPaymentStatus(
  ctx: AuditCtx,
  order: Pick<OrderRow, 'id' | 'payment_status' | 'refunded_amount'>,
  status: PaymentStatus,
  change: {
    action: string
    paid_at?: Date | ReturnType<Db['fn']['now']>
    refunded_amount?: number
    after?: Record<string, unknown>
    note?: string
  },
): Promise<void> {
  const { action, after, note, ...columns } = change
  await ctx
    .db('orders')
    .where('id', order.id)
    .update({ payment_status: status, updated_at: ctx.db.fn.now(), ...columns })
  await audit(ctx, {
    action,
    targetType: 'order',
    targetId: order.id,
    before: { paymentStatus: order.payment_status, refundedAmount: order.refunded_amount },
    after: {
      paymentStatus: status,
      refundedAmount: columns.refunded_amount ?? order.refunded_amount,
      ...after,
    },
    ...(note !== undefined ? { note: note.slice(0, 300) } : {}),
  })
}

/** Stamps when a payment arrived on an order whose status was set otherwise (a late payment refunded). */
export async function markPaidAt(db: Db, orderId: string): Promise<void> {
  await db('orders').where('id', orderId).update({ paid_at: db.fn.now() })
}

/** The refund-driven payment status: refunded when nothing is left, partially when some is. */
export function statusAfterRefunds(total: number, refunded: number): PaymentStatus {
  if (refunded <= 0) return 'paid'
  return refunded >= total ? 'refunded' : 'partially_refunded'
}

/**
 * `order:status` events to the buyer and, once the order is honoured (honouredOrderSql), to
 * each seller (with only their own shipments), plus `order_status` notifications to
 * `notify` — never to a seller of an order that is not honoured.
 */
export async function emitOrderStatus(
  spine: EventSpine,
  tx: TxCtx,
  orderId: string,
  notify: { userIds: string[]; shipmentId?: string; status?: ShipmentStatus } = { userIds: [] },
  opts: {
    sellers?: boolean
    known?: {
      order: Pick<OrderRow, 'id' | 'buyer_id' | 'payment_status' | 'paid_at'>
      shipments: { id: string; status: ShipmentStatus; seller_id: string }[]
    }
  } = {},
): Promise<void> {
  // An order just written by checkout has no refunds yet: paid means honoured.
  const order = opts.known
    ? { ...opts.known.order, honoured: opts.known.order.paid_at !== null }
    : await tx
        .db('orders as o')
        .where('o.id', orderId)
        .first<(Pick<OrderRow, 'id' | 'buyer_id' | 'payment_status'> & { honoured: boolean }) | undefined>(
          'o.id',
          'o.buyer_id',
          'o.payment_status',
          tx.db.raw(`${honouredOrderSql('o')} as honoured`),
        )
  if (!order) return
  const shipments: Pick<ShipmentRow, 'id' | 'status' | 'seller_id'>[] =
    opts.known?.shipments ??
    (await tx.db('shipments').where('order_id', orderId).orderBy('seller_id').select('id', 'status', 'seller_id'))
  const sellerIds = new Set(shipments.map((s) => s.seller_id))
  sellerIds.delete(order.buyer_id)
  const events: { userId: string; event: 'order:status'; data: OrderStatusEvent }[] = [
    {
      userId: order.buyer_id,
      event: 'order:status',
      data: {
        orderId,
        paymentStatus: order.payment_status,
        shipments: shipments.map((s) => ({ id: s.id, status: s.status })),
      },
    },
  ]
  if (order.honoured && opts.sellers !== false) {
    for (const sellerId of sellerIds) {
      events.push({
        userId: sellerId,
        event: 'order:status',
        data: {
          orderId,
          paymentStatus: order.payment_status,
          shipments: shipments.filter((s) => s.seller_id === sellerId).map((s) => ({ id: s.id, status: s.status })),
        },
      })
    }
  }
  await spine.append(tx, events)
  const targets = [...new Set(notify.userIds)].filter((id) => order.honoured || !sellerIds.has(id))
  if (targets.length > 0) {
    await spine.notify(tx, targets, 'order_status', {
      orderId,
      paymentStatus: order.payment_status,
      ...(notify.shipmentId ? { shipmentId: notify.shipmentId } : {}),
      ...(notify.status ? { status: notify.status } : {}),
    })
  }
}

/** The sellers of an order's lines. */
export async function sellersOf(db: Db, orderId: string): Promise<string[]> {
  const rows = await db('shipments').where('order_id', orderId).select('seller_id')
  return [...new Set(rows.map((r) => r.seller_id))]
}

const naira = (kobo: number) =>
  `NGN ${(kobo / 100).toLocaleString('en-NG', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

/** The confirmation mails of a paid order: the buyer's receipt, and each seller's "to ship" note. */
export async function queuePaidMails(db: Db, order: OrderRow, items: OrderItemRow[], publicUrl: string): Promise<void> {
  const users = await db('users')
    .whereIn('id', [order.buyer_id, ...items.map((i) => i.seller_id)])
    .select<{ id: string; email: string; name: string }[]>('id', 'email', 'name')
  const byId = new Map(users.map((u) => [u.id, u]))
  const buyer = byId.get(order.buyer_id)
  const line = (i: OrderItemRow) => `- ${i.title} × ${i.quantity}: ${naira(i.unit_price * i.quantity)}`
  if (buyer) {
    await enqueueMail(db, {
      to: buyer.email,
      subject: `Your Oja order ${order.id.slice(0, 8)} is confirmed`,
      text:
        `Hello ${buyer.name},\n\nThank you for your order.\n\n${items.map(line).join('\n')}\n` +
        (order.discount > 0 ? `Discount: -${naira(order.discount)}\n` : '') +
        `Total paid: ${naira(order.total)}\n\nFollow it at ${publicUrl}/orders/${order.id}\n`,
    })
  }
  const address = order.shipping_address as {
    fullName?: string
    line1?: string
    line2?: string | null
    city?: string
    state?: string
    country?: string
    phone?: string
  }
  const shipTo = [address.fullName, address.line1, address.line2, address.city, address.state, address.country]
    .filter(Boolean)
    .join(', ')
  for (const sellerId of new Set(items.map((i) => i.seller_id))) {
    const seller = byId.get(sellerId)
    if (!seller) continue
    const mine = items.filter((i) => i.seller_id === sellerId)
    await enqueueMail(db, {
      to: seller.email,
      subject: 'You made a sale on Oja',
      text:
        `Hello ${seller.name},\n\nSold:\n${mine.map(line).join('\n')}\n\n` +
        `Ship to: ${shipTo} (${address.phone ?? ''})\n\n` +
        'Mark the shipment as sent in the app once it is on its way.\n',
    })
  }
}

/** Tells the buyer by mail that a payment was returned. */
export async function queueRefundMail(
  db: Db,
  order: Pick<OrderRow, 'id' | 'buyer_id'>,
  amount: number,
  why: string,
): Promise<void> {
  const buyer = await db('users')
    .where('id', order.buyer_id)
    .first<{ email: string; name: string } | undefined>('email', 'name')
  if (!buyer) return
  await enqueueMail(db, {
    to: buyer.email,
    subject: `Refund for your Oja order ${order.id.slice(0, 8)}`,
    text: `Hello ${buyer.name},\n\n${why}\n\nWe have asked Paystack to refund ${naira(amount)} to you; it usually reaches your account within a few working days.\n`,
  })
}
