import { Type, type Static } from '@sinclair/typebox'
import { Currency, Id, OrNull, Page, PageQuery, StringEnum, Timestamp } from '../shared/index.js'

export const Balance = Type.Object(
  {
    currency: Currency,
    pending: Type.Integer({ description: 'Kobo in escrow: paid, not yet released' }),
    available: Type.Integer({ description: 'Kobo that can be paid out; below zero after a refund of released money' }),
    onHold: Type.Integer({ description: 'Kobo held by open disputes' }),
    inTransit: Type.Integer({ description: 'Kobo in payouts Paystack has not confirmed yet' }),
    paidOut: Type.Integer({ description: 'Kobo Paystack has paid out to the seller, less reversals' }),
  },
  { title: 'Balance' },
)
export type Balance = Static<typeof Balance>

export const LedgerEntry = Type.Object(
  {
    id: Type.String(),
    type: StringEnum([
      'sale',
      'fee',
      'vat',
      'coupon',
      'paystack_fee',
      'capture',
      'release',
      'hold',
      'unhold',
      'refund',
      'refund_settled',
      'payout',
      'payout_returned',
      'adjustment',
    ]),
    bucket: StringEnum(['pending', 'available', 'on_hold', 'in_transit']),
    amount: Type.Integer({ description: 'Kobo, signed on the bucket' }),
    currency: Currency,
    orderId: OrNull(Id),
    shipmentId: OrNull(Id),
    payoutId: OrNull(Id),
    disputeId: OrNull(Id),
    createdAt: Timestamp,
  },
  { title: 'LedgerEntry' },
)

export const LedgerPage = Page(LedgerEntry)
export const LedgerQuery = Type.Object(PageQuery)

export const LedgerCheck = Type.Object(
  {
    balanced: Type.Boolean(),
    mismatches: Type.Array(Type.Object({ kind: Type.String(), ref: Type.String(), detail: Type.String() })),
  },
  { title: 'LedgerCheck' },
)
