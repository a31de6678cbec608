import { handoverCodesOf } from '../ledger/index.js'
import type { Db } from '../db/index.js'
import { paymentsOf, refundsOf, type PaymentRow, type RefundRow } from '../payments/index.js'
import type { Actor } from '../shared/index.js'
import { isHonoured } from './order-lifecycle.js'
import type { HistoryRow, OrderItemRow, OrderRow, ShipmentRow } from './orders.tables.js'
import type { Order, Shipment } from './orders.schemas.js'

const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** The payment columns an order view shows. */
export type PaymentViewRow = Pick<
  PaymentRow,
  'order_id' | 'reference' | 'amount' | 'currency' | 'status' | 'authorization_url' | 'paid_at'
>
/** The refund columns an order view shows. */
export type RefundViewRow = Pick<
  RefundRow,
  'id' | 'order_id' | 'amount' | 'currency' | 'reason' | 'origin' | 'status' | 'created_at' | 'processed_at'
>
/** History lines as a view needs them. */
export type HistoryViewRow = Omit<HistoryRow, 'id'>

/** How an order is shown: the buyer and admins see all of it; a seller only its own lines. */
export type Viewer = { userId: string; role: Actor['role'] } | 'system'

export function addressOf(a: Record<string, unknown>): NonNullable<Order['shippingAddress']> {
  const s = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : '')
  const n = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : null)
  return {
    fullName: s('fullName'),
    phone: s('phone'),
    line1: s('line1'),
    line2: n('line2'),
    city: s('city'),
    state: s('state'),
    country: s('country') || 'NG',
    postalCode: n('postalCode'),
  }
}

function shipmentView(s: ShipmentRow, history: HistoryViewRow[], handoverCode?: string): Shipment {
  return {
    id: s.id,
    orderId: s.order_id,
    sellerId: s.seller_id,
    status: s.status,
    trackingNumber: s.tracking_number,
    carrier: s.carrier,
    sentAt: iso(s.sent_at),
    deliveredAt: iso(s.delivered_at),
    receivedAt: iso(s.received_at),
    cancelledAt: iso(s.cancelled_at),
    ...(handoverCode !== undefined ? { handoverCode } : {}),
    history: history
      .filter((h) => h.shipment_id === s.id)
      .map((h) => ({
        fromStatus: h.from_status,
        status: h.status,
        trackingNumber: h.tracking_number,
        carrier: h.carrier,
        note: h.note,
        actorId: h.actor_id,
        createdAt: h.created_at.toISOString(),
      })),
  }
}

async function historyOf(db: Db, shipmentIds: string[]): Promise<HistoryRow[]> {
  if (shipmentIds.length === 0) return []
  return db('shipment_history')
    .whereIn('shipment_id', shipmentIds)
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
}

export async function shipmentViews(db: Db, rows: ShipmentRow[]): Promise<Shipment[]> {
  const history = await historyOf(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((s) => shipmentView(s, history))
}

export const itemView = (i: OrderItemRow) => ({
  id: i.id,
  listingId: i.listing_id,
  sellerId: i.seller_id,
  shipmentId: i.shipment_id,
  title: i.title,
  listingType: i.listing_type,
  unitPrice: i.unit_price,
  listPrice: i.list_price,
  quantity: i.quantity,
  lineTotal: i.unit_price * i.quantity,
  offerId: i.offer_id,
})

export type OrderRows = {
  items: OrderItemRow[]
  shipments: ShipmentRow[]
  history: HistoryViewRow[]
  payments: PaymentViewRow[]
  refunds: RefundViewRow[]
  /** Hand-over codes of shipments in escrow, by shipment id: shown to the buyer only. */
  handoverCodes?: Map<string, string>
}

const refundView = (r: RefundViewRow) => ({
  id: r.id,
  amount: r.amount,
  currency: r.currency,
  reason: r.reason,
  origin: r.origin,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  processedAt: iso(r.processed_at),
})

/**
 * Where a seller ships: the buyer's address, only while the seller's shipment of an honoured
 * order is still to be (or being, or was) delivered — not for a cancelled one.
 */
export function sellerAddress(
  order: Pick<OrderRow, 'shipping_address'>,
  honoured: boolean,
  shipments: Pick<ShipmentRow, 'status'>[],
): Order['shippingAddress'] {
  return honoured && shipments.some((s) => s.status !== 'cancelled') ? addressOf(order.shipping_address) : null
}

/**
 * The API shape of orders from their rows (what orderViews loads, or what a caller just wrote).
 * The buyer and admins see the whole order. A seller sees only their part: their lines and
 * shipment, their lines' sum as subtotal and total (a coupon is the platform's cost, never
 * theirs), no payment or refunds (between the buyer and the platform), and the address only
 * as sellerAddress allows.
 */
export function buildOrderViews(orders: OrderRow[], rows: OrderRows, viewer: Viewer): Order[] {
  const sorted = [...rows.history].sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
  return orders.map((o) => {
    const viewerId = viewer === 'system' ? undefined : viewer.userId
    const fullView = viewer === 'system' || viewer.role === 'admin' || viewerId === o.buyer_id
    const mine = (sellerId: string) => fullView || sellerId === viewerId
    const items = rows.items.filter((i) => i.order_id === o.id && mine(i.seller_id))
    const shipments = rows.shipments.filter((s) => s.order_id === o.id && mine(s.seller_id))
    const refunds = rows.refunds.filter((r) => r.order_id === o.id)
    const payment = rows.payments.find((p) => p.order_id === o.id)
    const common = {
      id: o.id,
      buyerId: o.buyer_id,
      paymentStatus: o.payment_status,
      currency: o.currency,
      items: items.map(itemView),
      shipments: shipments.map((s) =>
        shipmentView(
          s,
          sorted,
          viewerId === o.buyer_id &&
            (s.status === 'pending' || s.status === 'sent' || s.status === 'en_route' || s.status === 'delivered')
            ? rows.handoverCodes?.get(s.id)
            : undefined,
        ),
      ),
      expiresAt: iso(o.expires_at),
      paidAt: iso(o.paid_at),
      cancelledAt: iso(o.cancelled_at),
      createdAt: o.created_at.toISOString(),
      updatedAt: o.updated_at.toISOString(),
    }
    if (!fullView) {
      const ownSubtotal = items.reduce((sum, i) => sum + i.unit_price * i.quantity, 0)
      return {
        ...common,
        subtotal: ownSubtotal,
        discount: 0,
        total: ownSubtotal,
        refundedAmount: 0,
        coupon: null,
        shippingAddress: sellerAddress(o, isHonoured(o, refunds), shipments),
        payment: null,
        refunds: [],
      }
    }
    return {
      ...common,
      subtotal: o.subtotal,
      discount: o.discount,
      total: o.total,
      refundedAmount: o.refunded_amount,
      coupon: o.coupon_code ? { code: o.coupon_code } : null,
      shippingAddress: addressOf(o.shipping_address),
      payment: payment
        ? {
            provider: 'paystack' as const,
            reference: payment.reference,
            amount: payment.amount,
            currency: payment.currency,
            status: payment.status,
            authorizationUrl: payment.authorization_url,
            paidAt: iso(payment.paid_at),
          }
        : null,
      refunds: refunds.map(refundView),
    }
  })
}

/** Builds the API shape of several orders with a handful of set-based queries. */
export async function orderViews(db: Db, orders: OrderRow[], viewer: Viewer): Promise<Order[]> {
  if (orders.length === 0) return []
  const ids = orders.map((o) => o.id)
  // One connection runs one query at a time: inside a transaction, ask in turn.
  const queries = [
    async () =>
      db('order_items')
        .whereIn('order_id', ids)
        .orderBy([{ column: 'created_at' }, { column: 'id' }]),
    async () =>
      db('shipments')
        .whereIn('order_id', ids)
        .orderBy([{ column: 'created_at' }, { column: 'seller_id' }]),
    () => paymentsOf(db, ids),
    () => refundsOf(db, ids),
  ] as const
  const inTransaction = db.isTransaction === true
  const [items, shipments, payments, refunds] = inTransaction
    ? [await queries[0](), await queries[1](), await queries[2](), await queries[3]()]
    : await Promise.all([queries[0](), queries[1](), queries[2](), queries[3]()])
  const history = await historyOf(
    db,
    shipments.map((s) => s.id),
  )
  const mine = viewer !== 'system' && orders.some((o) => o.buyer_id === viewer.userId)
  const handoverCodes = mine
    ? await handoverCodesOf(
        db,
        shipments.map((s) => s.id),
      )
    : undefined
  return buildOrderViews(
    orders,
    { items, shipments, history, payments, refunds, ...(handoverCodes ? { handoverCodes } : {}) },
    viewer,
  )
}

export async function orderView(db: Db, orderId: string, viewer: Viewer): Promise<Order> {
  const order = await db('orders').where('id', orderId).first()
  const [view] = await orderViews(db, order ? [order] : [], viewer)
  return view!
}
