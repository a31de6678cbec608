/** The public surface of src/events: other folders import from here, never from its files. */

/** The event spine (app.ts builds it; features append, notify and run transactions through it) and its purge job. */
export { EventSpine, purgeOldEventsJob } from './events.service.js'
/** What a feature registers with `spine.onAppend` to derive its rows from stored events, in their transaction. */
export type { AppendHook } from './events.service.js'

/** How stored events leave the node (the realtime layer provides a publisher; tests use the no-op one). */
export { isAdminBroadcast, noopPublisher } from './events.types.js'
export type {
  AdminBroadcast,
  AdminEventName,
  AdminEvents,
  PendingEvent,
  Publisher,
  StoredEvent,
} from './events.types.js'

/** The data of the admin events and of `unread:updated`, as schemas (realtime/protocol.ts documents them). */
export {
  AdminDisputeEvent,
  AdminEventSchemas,
  AdminFlagEvent,
  AdminReportEvent,
  UnreadCounts,
} from './events.schemas.js'
