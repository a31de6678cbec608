import { Type, type Static } from '@sinclair/typebox'
import { Currency, Id, Money, OrNull, Page, PageQuery, StrictObject, StringEnum, Timestamp } from '../shared/index.js'

/** Free text of a dispute (its detail, a message, an admin's note): 1 to 2 000 characters, not only white space. */
const DisputeText = (description: string) =>
  Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S', description: `${description}, 1 to 2 000 characters` })

export const DisputeReason = StringEnum(['not_received', 'not_as_described', 'damaged', 'other'])
export const DisputeStatus = StringEnum(['open', 'resolved'])
export const DisputeOutcome = StringEnum(['release', 'refund', 'split'])

export const OpenDisputeBody = StrictObject(
  { reason: DisputeReason, detail: DisputeText('What went wrong') },
  { title: 'OpenDisputeBody' },
)
export type OpenDisputeBody = Static<typeof OpenDisputeBody>

export const DisputeMessageBody = StrictObject({ body: DisputeText('The message') }, { title: 'DisputeMessageBody' })

export const ResolveDisputeBody = StrictObject(
  {
    outcome: DisputeOutcome,
    refundAmount: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000_000_000,
        description: 'Kobo refunded to the buyer; required with `split` (the rest is released), refused otherwise',
      }),
    ),
    note: DisputeText('Why: shown to the buyer and the seller'),
  },
  { title: 'ResolveDisputeBody' },
)
export type ResolveDisputeBody = Static<typeof ResolveDisputeBody>

export const DisputeListQuery = StrictObject({ status: Type.Optional(DisputeStatus), ...PageQuery })

export const Dispute = Type.Object(
  {
    id: Id,
    shipmentId: Id,
    orderId: Id,
    buyerId: Id,
    sellerId: Id,
    reason: DisputeReason,
    detail: Type.String(),
    status: DisputeStatus,
    outcome: OrNull(DisputeOutcome),
    refundAmount: OrNull({ ...Money, description: 'Kobo refunded to the buyer by the decision (refund, split)' }),
    currency: Currency,
    refundId: OrNull(Id),
    refundStatus: OrNull(
      StringEnum(['pending', 'processing', 'processed', 'failed', 'cancelled'], {
        description:
          'Where the decision’s refund is: pending (not yet accepted by Paystack), processing, processed, failed',
      }),
    ),
    resolutionNote: OrNull(Type.String()),
    createdAt: Timestamp,
    resolvedAt: OrNull(Timestamp),
  },
  { title: 'Dispute' },
)
export type Dispute = Static<typeof Dispute>

export const DisputeMessage = Type.Object(
  {
    id: Id,
    disputeId: Id,
    authorId: Id,
    authorRole: StringEnum(['buyer', 'seller', 'admin']),
    body: Type.String(),
    createdAt: Timestamp,
  },
  { title: 'DisputeMessage' },
)
export type DisputeMessage = Static<typeof DisputeMessage>

export const DisputeWithMessages = Type.Object(
  {
    ...Dispute.properties,
    messages: Type.Array(DisputeMessage, { description: 'The thread, oldest first' }),
  },
  { title: 'DisputeWithMessages' },
)
export type DisputeWithMessages = Static<typeof DisputeWithMessages>

export const DisputePage = Page(Dispute)
