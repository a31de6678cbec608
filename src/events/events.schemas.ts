import { Type, type Static } from '@sinclair/typebox'
import { Id } from '../shared/schemas.js'

/**
 * The data of the live events that are no feature's own entity: the admin console's events
 * and the unread counts. Pure TypeBox (realtime/protocol.ts and its clients import it).
 */

/** `admin:flag`: a review was flagged. */
export const AdminFlagEvent = Type.Object(
  { reviewId: Id, reason: Type.String({ description: 'Why it was flagged' }) },
  { description: 'A review was flagged (GET /v1/admin/reviews)' },
)
/** `admin:report`: a listing was reported. */
export const AdminReportEvent = Type.Object(
  { listingId: Id, reportId: Id, reason: Type.String({ description: 'The report’s reason' }) },
  { description: 'A listing was reported (GET /v1/admin/reports)' },
)
/** `admin:dispute`: a buyer opened a dispute. */
export const AdminDisputeEvent = Type.Object(
  { disputeId: Id, shipmentId: Id },
  { description: 'A buyer opened a dispute (GET /v1/admin/disputes)' },
)

/** Each admin event's data, by event name. */
export const AdminEventSchemas = {
  'admin:flag': AdminFlagEvent,
  'admin:report': AdminReportEvent,
  'admin:dispute': AdminDisputeEvent,
} as const

/** `unread:updated`: the user's unread counts as they now stand (the badge is `messages + notifications`). */
export const UnreadCounts = Type.Object(
  {
    messages: Type.Integer({ minimum: 0, description: 'Unread messages' }),
    notifications: Type.Integer({ minimum: 0, description: 'Unread notifications' }),
    conversations: Type.Integer({ minimum: 0, description: 'Conversations with unread messages' }),
  },
  { description: 'The caller’s unread counts, on any device' },
)
export type UnreadCounts = Static<typeof UnreadCounts>
