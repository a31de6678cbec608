import { Type } from '@sinclair/typebox'
import { Id, OrNull, PageQuery, StrictObject, StringEnum, Timestamp } from '../shared/index.js'

export const RatingSummary = Type.Object(
  {
    average: OrNull(Type.Number()),
    count: Type.Integer(),
    histogram: Type.Object({
      1: Type.Integer(),
      2: Type.Integer(),
      3: Type.Integer(),
      4: Type.Integer(),
      5: Type.Integer(),
    }),
  },
  { title: 'RatingSummary' },
)

export const Review = Type.Object(
  {
    id: Id,
    shipmentId: Id,
    sellerId: Id,
    buyer: Type.Object({ id: Id, name: Type.String() }),
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    body: Type.String(),
    reply: OrNull(Type.Object({ body: Type.String(), createdAt: Timestamp })),
    listings: Type.Array(Type.Object({ id: OrNull(Id), title: Type.String() })),
    createdAt: Timestamp,
  },
  { title: 'Review' },
)

export const AdminReview = Type.Composite(
  [
    Review,
    Type.Object({
      status: StringEnum(['visible', 'hidden']),
      openFlags: Type.Integer(),
      flags: Type.Array(
        Type.Object({ userId: Id, reason: Type.String(), createdAt: Timestamp, resolved: Type.Boolean() }),
      ),
      moderationNote: OrNull(Type.String()),
    }),
  ],
  { title: 'AdminReview' },
)

export const ReviewPage = Type.Object(
  {
    items: Type.Array(Review),
    nextCursor: OrNull(Type.String()),
    summary: RatingSummary,
  },
  { title: 'ReviewPage' },
)

export const CreateReviewBody = StrictObject(
  {
    rating: Type.Integer({ minimum: 1, maximum: 5 }),
    body: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { title: 'CreateReviewBody' },
)
export const ReplyBody = StrictObject({ body: Type.String({ minLength: 1, maxLength: 2000 }) }, { title: 'ReplyBody' })
export const FlagBody = StrictObject({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { title: 'FlagBody' })
export const ModerateBody = StrictObject(
  {
    action: StringEnum(['hide', 'restore', 'dismiss_flags']),
    note: Type.String({ minLength: 1, maxLength: 1000 }),
  },
  { title: 'ModerateBody' },
)
export const ReviewsQuery = StrictObject({ ...PageQuery })
export const AdminReviewsQuery = StrictObject({
  status: Type.Optional(StringEnum(['flagged', 'visible', 'hidden'], { default: 'flagged' })),
  ...PageQuery,
})
