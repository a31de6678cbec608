import { recordSales, returnSales } from '../listings/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { enqueueMail } from '../mail/index.js'
import type { TxCtx } from '../shared/index.js'
import { releaseRedemption } from '../coupons/index.js'

/*
 * The steps that move an order's stock and state, shared by checkout, payment confirmation,
 * cancellation, expiry and refunds. Each runs inside the caller's transaction; callers lock
 * rows in one order everywhere: the order row, then listings by id, then coupons.
 */

export type PaymentStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded' | 'partially_refunded'
export type ShipmentStatus = 'pending' | 'sent' | 'en_route' | 'delivered' | 'received' | 'cancelled'

export type OrderRow = {
  id: string
  buyer_id: string
  payment_status: PaymentStatus
  subtotal: number
  discount: number
  total: number
  refunded_amount: number
  currency: string
  coupon_id: string | null
  coupon_code: string | null
  shipping_address: Record<string, unknown>
  callback_url: string | null
  expires_at: Date | null
  paid_at: Date | null
  cancelled_at: Date | null
  cancel_reason: string | null
  created_at: Date
  updated_at: Date
}

export type OrderItemRow = {
  id: string
  order_id: string
  shipment_id: string
  listing_id: string | null
  seller_id: string
  title: string
  listing_type: 'sale' | 'giveaway'
  list_price: number
  unit_price: number
  quantity: number
  currency: string
  offer_id: string | null
}

/** States of an order whose money we hold (wholly or in part). */
export const PAID_STATES: PaymentStatus[] = ['paid', 'partially_refunded']

export async function lockOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  return (await db('orders').where('id', orderId).forUpdate().first()) as OrderRow | undefined
}

export async function orderItems(db: Db, orderId: string): Promise<OrderItemRow[]> {
  return (await db('order_items').where('order_id', orderId).orderBy('created_at').orderBy('id')) as OrderItemRow[]
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
  await db('reservations')
    .where('order_id', order.id)
    .whereNull('released_at')
    .whereNull('converted_at')
    .update({ converted_at: db.fn.now() })
  if (units.size > 0)
    await db('cart_items')
      .where('user_id', order.buyer_id)
      .whereIn('listing_id', [...units.keys()])
      .delete()
  if (order.coupon_id)
    await db('carts')
      .where({ user_id: order.buyer_id, coupon_id: order.coupon_id })
      .update({ coupon_id: null, updated_at: db.fn.now() })
}

/** Puts sold units back on sale (a paid order cancelled before shipping). */
export async function returnToStock(db: Db, items: OrderItemRow[]): Promise<void> {
  await returnSales(db, unitsByListing(items))
}

/** Lets go of what an unpaid order held: its reservations and its coupon use. */
export async function releaseHolds(db: Db, orderId: string): Promise<void> {
  await db('reservations')
    .where('order_id', orderId)
    .whereNull('released_at')
    .whereNull('converted_at')
    .update({ released_at: db.fn.now() })
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
  const rows = (await db('shipments')
    .where({ order_id: orderId, status: 'cancelled' })
    .update({ status: 'pending', cancelled_at: null, updated_at: db.fn.now() })
    .returning('id')) as { id: string }[]
  if (rows.length > 0)
    await db('shipment_history').insert(
      rows.map((r) => ({ shipment_id: r.id, from_status: 'cancelled', status: 'pending', note })),
    )
}

export async function setPaymentStatus(
  db: Db,
  orderId: string,
  status: PaymentStatus,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await db('orders')
    .where('id', orderId)
    .update({ payment_status: status, updated_at: db.fn.now(), ...extra })
}

/** The refund-driven payment status: refunded when nothing is left, partially when some is. */
export function statusAfterRefunds(total: number, refunded: number): PaymentStatus {
  if (refunded <= 0) return 'paid'
  return refunded >= total ? 'refunded' : 'partially_refunded'
}

/**
 * `order:status` events to the buyer and, once the order has been paid, to each seller
 * (with only their own shipments), plus `order_status` notifications to `notify`.
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
  const order =
    opts.known?.order ??
    ((await tx.db('orders').where('id', orderId).first('id', 'buyer_id', 'payment_status', 'paid_at')) as Pick<
      OrderRow,
      'id' | 'buyer_id' | 'payment_status' | 'paid_at'
    >)
  const shipments =
    opts.known?.shipments ??
    ((await tx.db('shipments').where('order_id', orderId).orderBy('seller_id').select('id', 'status', 'seller_id')) as {
      id: string
      status: ShipmentStatus
      seller_id: string
    }[])
  const events = [
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
  if (order.paid_at && opts.sellers !== false) {
    for (const sellerId of new Set(shipments.map((s) => s.seller_id))) {
      if (sellerId === order.buyer_id) continue
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
  const targets = [...new Set(notify.userIds)]
  if (targets.length > 0) {
    await spine.notify(tx, targets, 'order_status', {
      orderId,
      paymentStatus: order.payment_status,
      ...(notify.shipmentId ? { shipmentId: notify.shipmentId } : {}),
      ...(notify.status ? { status: notify.status } : {}),
    })
  }
}

export async function sellersOf(db: Db, orderId: string): Promise<string[]> {
  const rows = (await db('shipments').where('order_id', orderId).select('seller_id')) as { seller_id: string }[]
  return [...new Set(rows.map((r) => r.seller_id))]
}

const naira = (kobo: number) =>
  `NGN ${(kobo / 100).toLocaleString('en-NG', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

/** The confirmation mails of a paid order: the buyer's receipt, and each seller's "to ship" note. */
export async function queuePaidMails(db: Db, order: OrderRow, items: OrderItemRow[], publicUrl: string): Promise<void> {
  const users = (await db('users')
    .whereIn('id', [order.buyer_id, ...items.map((i) => i.seller_id)])
    .select('id', 'email', 'name')) as { id: string; email: string; name: string }[]
  const byId = new Map(users.map((u) => [u.id, u]))
  const buyer = byId.get(order.buyer_id)
  const line = (i: OrderItemRow) => `- ${i.title} × ${i.quantity}: ${naira(i.unit_price * i.quantity)}`
  if (buyer) {
    await enqueueMail(db, {
      to: buyer.email,
      subject: `Your Oja order ${order.id.slice(0, 8)} is confirmed`,
      text: `Hello ${buyer.name},\n\nThank you for your order.\n\n${items.map(line).join('\n')}\n${order.discount > 0 ? `Discount: -${naira(order.discount)}\n` : ''}Total paid: ${naira(order.total)}\n\nFollow it at ${publicUrl}/orders/${order.id}\n`,
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
  for (const sellerId of new Set(items.map((i) => i.seller_id))) {
    const seller = byId.get(sellerId)
    if (!seller) continue
    const mine = items.filter((i) => i.seller_id === sellerId)
    await enqueueMail(db, {
      to: seller.email,
      subject: 'You made a sale on Oja',
      text: `Hello ${seller.name},\n\nSold:\n${mine.map(line).join('\n')}\n\nShip to: ${[address.fullName, address.line1, address.line2, address.city, address.state, address.country].filter(Boolean).join(', ')} (${address.phone ?? ''})\n\nMark the shipment as sent in the app once it is on its way.\n`,
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
  const buyer = (await db('users').where('id', order.buyer_id).first('email', 'name')) as
    { email: string; name: string } | undefined
  if (!buyer) return
  await enqueueMail(db, {
    to: buyer.email,
    subject: `Refund for your Oja order ${order.id.slice(0, 8)}`,
    text: `Hello ${buyer.name},\n\n${why}\n\nWe have asked Paystack to refund ${naira(amount)} to you; it usually reaches your account within a few working days.\n`,
  })
}
