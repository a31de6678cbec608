import { Type, type Static } from '@sinclair/typebox'
import { OrNull, StringEnum } from '../shared/schemas.js'
import { Id, Money, PageQuery, StrictObject, Timestamp } from '../shared/schemas.js'

export const PaymentStatus = StringEnum(['pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded'])
export const ShipmentStatus = StringEnum(['pending', 'sent', 'en_route', 'delivered', 'received', 'cancelled'])

/** `order:status` (a live event): an order's payment status and its shipments' statuses, to the buyer and to each seller (their own shipments). */
export const OrderStatusEvent = Type.Object(
  {
    orderId: Id,
    paymentStatus: PaymentStatus,
    shipments: Type.Array(Type.Object({ id: Id, status: ShipmentStatus }), {
      description: 'The buyer gets every shipment; a seller only theirs',
    }),
  },
  { description: 'An order moved on' },
)
export type OrderStatusEvent = Static<typeof OrderStatusEvent>

export const ShippingAddress = Type.Object(
  {
    fullName: Type.String(),
    phone: Type.String(),
    line1: Type.String(),
    line2: OrNull(Type.String()),
    city: Type.String(),
    state: Type.String(),
    country: Type.String(),
    postalCode: OrNull(Type.String()),
  },
  { title: 'ShippingAddress' },
)

export const ShipmentHistoryEntry = Type.Object(
  {
    fromStatus: OrNull(Type.String()),
    status: Type.String(),
    trackingNumber: OrNull(Type.String()),
    carrier: OrNull(Type.String()),
    note: OrNull(Type.String()),
    actorId: OrNull(Id),
    createdAt: Timestamp,
  },
  { title: 'ShipmentHistoryEntry' },
)

export const Shipment = Type.Object(
  {
    id: Id,
    orderId: Id,
    sellerId: Id,
    status: ShipmentStatus,
    trackingNumber: OrNull(Type.String()),
    carrier: OrNull(Type.String()),
    sentAt: OrNull(Timestamp),
    deliveredAt: OrNull(Timestamp),
    receivedAt: OrNull(Timestamp),
    cancelledAt: OrNull(Timestamp),
    /** The buyer's 6-digit code for a meet-up hand-over (paid shipment not yet received); only the buyer sees it. */
    handoverCode: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
    history: Type.Array(ShipmentHistoryEntry),
  },
  { title: 'Shipment' },
)
export type Shipment = Static<typeof Shipment>

export const OrderItem = Type.Object(
  {
    id: Id,
    listingId: OrNull(Id),
    sellerId: Id,
    shipmentId: Id,
    title: Type.String({ description: 'Snapshot at order time' }),
    listingType: StringEnum(['sale', 'giveaway']),
    unitPrice: Money,
    listPrice: Money,
    quantity: Type.Integer(),
    lineTotal: Money,
    offerId: OrNull(Id),
  },
  { title: 'OrderItem' },
)

export const OrderPayment = Type.Object(
  {
    provider: StringEnum(['paystack']),
    reference: Type.String(),
    amount: Money,
    currency: Type.String(),
    status: Type.String({ description: 'initializing, pending, success, failed or expired' }),
    authorizationUrl: OrNull(Type.String()),
    paidAt: OrNull(Timestamp),
  },
  { title: 'OrderPayment' },
)

export const Refund = Type.Object(
  {
    id: Id,
    amount: Money,
    currency: Type.String(),
    reason: Type.String(),
    origin: Type.String({ description: 'admin, buyer_cancel, late_payment or provider' }),
    status: Type.String({
      description:
        'pending (not yet accepted by Paystack), processing, processed, failed, or cancelled (nothing was left to refund)',
    }),
    createdAt: Timestamp,
    processedAt: OrNull(Timestamp),
  },
  { title: 'Refund' },
)

export const Order = Type.Object(
  {
    id: Id,
    buyerId: Id,
    paymentStatus: PaymentStatus,
    subtotal: Money,
    discount: Money,
    total: Money,
    refundedAmount: Money,
    currency: Type.String(),
    coupon: OrNull(Type.Object({ code: Type.String() })),
    shippingAddress: OrNull({
      ...ShippingAddress,
      description:
        'The buyer and admins always see it; a seller only while their shipment is not cancelled (else null)',
    }),
    items: Type.Array(OrderItem),
    shipments: Type.Array(Shipment),
    payment: OrNull(OrderPayment),
    refunds: Type.Array(Refund),
    expiresAt: OrNull(Timestamp),
    paidAt: OrNull(Timestamp),
    cancelledAt: OrNull(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Order' },
)
export type Order = Static<typeof Order>

/** A seller's view of one of its shipments: the sale. */
export const Sale = Type.Object(
  {
    shipment: Shipment,
    orderId: Id,
    buyerId: Id,
    paymentStatus: PaymentStatus,
    shippingAddress: OrNull({ ...ShippingAddress, description: 'Where to ship; null once the shipment is cancelled' }),
    items: Type.Array(OrderItem),
    createdAt: Timestamp,
  },
  { title: 'Sale' },
)

export const ListOrdersQuery = StrictObject({ paymentStatus: Type.Optional(PaymentStatus), ...PageQuery })
export const ListSalesQuery = StrictObject({ status: Type.Optional(ShipmentStatus), ...PageQuery })

export const ShipmentStatusBody = StrictObject(
  {
    status: StringEnum(['sent', 'en_route', 'delivered']),
    trackingNumber: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    carrier: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    note: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { title: 'ShipmentStatusBody' },
)
export type ShipmentStatusBody = Static<typeof ShipmentStatusBody>

export const HandoverBody = StrictObject(
  {
    code: Type.String({ pattern: '^[0-9]{6}$', description: "The buyer's 6-digit hand-over code" }),
  },
  { title: 'HandoverBody' },
)

export const RefundBody = StrictObject(
  {
    amount: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000_000_000,
        description: 'Kobo; the whole refundable rest when absent',
      }),
    ),
    reason: Type.String({ minLength: 1, maxLength: 500 }),
  },
  { title: 'RefundBody' },
)

export const RefundResult = Type.Object({ order: Order, refund: Refund }, { title: 'RefundResult' })
