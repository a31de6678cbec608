import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox'
import { Id, OrNull, StringEnum, Timestamp } from '../shared/schemas.js'

/**
 * Every notification type and its `data`, as stored: one named schema per type. The event
 * spine's `notify` is typed by them (a new type, or a field, without its schema does not
 * compile), and the OpenAPI document shows the notification as a union discriminated by
 * `type`. The enums are written out here rather than imported from their features (orders,
 * chat, payouts), which depend on this folder through the event spine; `notify`'s typing
 * keeps them in step with the values those features store.
 */

const Amount = Type.Integer({ description: 'Minor units (kobo)' })
const Currency = Type.String({ description: 'ISO 4217, e.g. NGN' })
const Text = (description: string) => Type.String({ description })

function Data<P extends TProperties>(name: string, description: string, properties: P): TObject<P> {
  return Type.Object(properties, { $id: `${name}NotificationData`, description, additionalProperties: false })
}

export const MessageNotificationData = Data(
  'Message',
  'A chat message reached the user while they had no live connection',
  { conversationId: Id, messageId: Id },
)
export const PriceDropNotificationData = Data('PriceDrop', 'A listing on the user’s wishlist got cheaper', {
  listingId: Id,
  oldPrice: Amount,
  newPrice: Amount,
  currency: Currency,
})
export const WantMatchNotificationData = Data(
  'WantMatch',
  'A newly published listing matches one of the user’s wants',
  {
    wantId: Id,
    listingId: Id,
  },
)
export const WantResponseNotificationData = Data(
  'WantResponse',
  'A seller answered one of the user’s wants with a listing (in a conversation)',
  { wantId: Id, listingId: Id, conversationId: Id },
)
export const OfferNotificationData = Data('Offer', 'An offer the user is party to changed status', {
  offerId: Id,
  status: StringEnum(['pending', 'accepted', 'declined', 'countered', 'withdrawn', 'expired']),
})
export const OrderStatusNotificationData = Data(
  'OrderStatus',
  'An order moved on: its payment, or (with `shipmentId` and `status`) one of its shipments',
  {
    orderId: Id,
    paymentStatus: StringEnum(['pending', 'paid', 'failed', 'expired', 'refunded', 'partially_refunded']),
    shipmentId: Type.Optional(Id),
    status: Type.Optional(StringEnum(['pending', 'sent', 'en_route', 'delivered', 'received', 'cancelled'])),
  },
)
export const ReviewNotificationData = Data('Review', 'A buyer reviewed the user (as seller)', {
  reviewId: Id,
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
})
export const ListingRemovedNotificationData = Data('ListingRemoved', 'A moderator removed one of the user’s listings', {
  listingId: Id,
  reason: Text('The moderator’s reason'),
})
export const FundsReleasedNotificationData = Data(
  'FundsReleased',
  'A shipment’s money left escrow and is available to the seller',
  {
    shipmentId: Id,
    orderId: Id,
    amount: Amount,
    currency: Currency,
    reason: StringEnum(['received', 'handover', 'timeout', 'dispute']),
  },
)
export const PayoutNotificationData = Data('Payout', 'An outcome of one of the seller’s payouts', {
  payoutId: Id,
  status: StringEnum(['paid', 'failed', 'reversed']),
  amount: Amount,
})
export const DisputeNotificationData = Data(
  'Dispute',
  'News of a dispute the user is party to (admins: every new dispute and message): opened (with `shipmentId` and `orderId`), a new message in its thread (`messageId`), or resolved (`outcome`)',
  {
    disputeId: Id,
    status: StringEnum(['open', 'resolved']),
    shipmentId: Type.Optional(Id),
    orderId: Type.Optional(Id),
    messageId: Type.Optional(Id),
    outcome: Type.Optional(StringEnum(['release', 'refund', 'split'])),
  },
)
export const PaymentUnsettledNotificationData = Data(
  'PaymentUnsettled',
  'Admins: a payment Oja could not settle by itself (GET /v1/admin/payments/unsettled)',
  {
    unsettledId: Id,
    reference: Text('The Paystack reference'),
    orderId: OrNull(Id),
    kind: StringEnum(['amount_mismatch', 'unconfirmed', 'unknown_transaction', 'balance_mismatch']),
    paystackAmount: OrNull(Amount),
    ojaAmount: OrNull(Amount),
  },
)
export const RefundFailedNotificationData = Data('RefundFailed', 'Admins: Paystack could not make a refund', {
  orderId: Id,
  refundId: Id,
  amount: Amount,
  message: Text('Why, as Paystack or Oja said it'),
})
export const RefundAdjustedNotificationData = Data(
  'RefundAdjusted',
  'Admins: a queued refund was reduced or cancelled because Paystack had refunded more meanwhile',
  {
    orderId: Id,
    refundId: Id,
    previousAmount: Amount,
    amount: Amount,
    status: StringEnum(['pending', 'cancelled']),
    message: Text('What happened'),
  },
)
export const PayoutPendingNotificationData = Data(
  'PayoutPending',
  'Admins: a payout waits because the Paystack balance is too low',
  { payoutId: Id, amount: Amount },
)
export const PayoutOtpNotificationData = Data('PayoutOtp', 'Admins: Paystack asks for an OTP to finalize a transfer', {
  payoutId: Id,
  amount: Amount,
  message: Text('What to do'),
})
export const LedgerMismatchNotificationData = Data(
  'LedgerMismatch',
  'Admins: the ledger check found differences (GET /v1/admin/ledger/check)',
  { checkId: Id, count: Type.Integer({ minimum: 1 }), first: Text('The first difference, in words') },
)

export const ReviewFlaggedNotificationData = Data(
  'ReviewFlagged',
  'Admins: a review was flagged for moderation (GET /v1/admin/reviews)',
  { reviewId: Id, reason: Text('Why it was flagged') },
)
export const ListingReportedNotificationData = Data(
  'ListingReported',
  'Admins: a listing was reported (GET /v1/admin/reports)',
  { listingId: Id, reportId: Id, reason: Text('The report’s reason') },
)

/** Each notification type's `data` schema. */
export const NotificationDataSchemas = {
  message: MessageNotificationData,
  price_drop: PriceDropNotificationData,
  want_match: WantMatchNotificationData,
  want_response: WantResponseNotificationData,
  offer: OfferNotificationData,
  order_status: OrderStatusNotificationData,
  review: ReviewNotificationData,
  listing_removed: ListingRemovedNotificationData,
  funds_released: FundsReleasedNotificationData,
  payout: PayoutNotificationData,
  dispute: DisputeNotificationData,
  payment_unsettled: PaymentUnsettledNotificationData,
  refund_failed: RefundFailedNotificationData,
  refund_adjusted: RefundAdjustedNotificationData,
  payout_pending: PayoutPendingNotificationData,
  payout_otp: PayoutOtpNotificationData,
  ledger_mismatch: LedgerMismatchNotificationData,
  review_flagged: ReviewFlaggedNotificationData,
  listing_reported: ListingReportedNotificationData,
} as const

export type NotificationType = keyof typeof NotificationDataSchemas
export type NotificationDataOf<T extends NotificationType> = Static<(typeof NotificationDataSchemas)[T]>
export const NOTIFICATION_TYPES = Object.keys(NotificationDataSchemas) as NotificationType[]

/** A notification as the API answers it and `notification:new` carries it. */
export type Notification = {
  [T in NotificationType]: {
    id: string
    type: T
    data: NotificationDataOf<T>
    readAt: string | null
    createdAt: string
  }
}[NotificationType]

/** `price_drop` → `PriceDropNotification` (its component name in the OpenAPI document). */
export const variantName = (type: NotificationType) =>
  `${type.replace(/(^|_)([a-z])/g, (_m, _s: string, c: string) => c.toUpperCase())}Notification`

/** One notification type's whole notification: `type` fixed, `data` its schema. */
const variant = (type: NotificationType) =>
  Type.Object(
    {
      id: Id,
      type: Type.Literal(type),
      data: Type.Ref(NotificationDataSchemas[type].$id!),
      readAt: OrNull(Timestamp),
      createdAt: Timestamp,
    },
    { $id: variantName(type), additionalProperties: false },
  )
export const NotificationVariants = NOTIFICATION_TYPES.map(variant)

/**
 * The notification: one of the types, told apart by `type` (an OpenAPI discriminator, whose
 * mapping names each type's component).
 */
export const Notification = Type.Unsafe<Notification>({
  $id: 'Notification',
  description: 'A notification; `type` says which, and the shape of its `data`',
  oneOf: NOTIFICATION_TYPES.map((type) => ({ $ref: variantName(type) })),
  discriminator: {
    propertyName: 'type',
    mapping: Object.fromEntries(NOTIFICATION_TYPES.map((type) => [type, `#/components/schemas/${variantName(type)}`])),
  },
})

/** Every schema above, in the order they must be registered (referenced ones first). */
export const notificationSchemas = [...Object.values(NotificationDataSchemas), ...NotificationVariants, Notification]
