/** The public surface of src/notifications: other folders import from here, never from its files. */

/** The feature: its schemas and routes (app.ts registers it). */
export { notificationsFeature } from './notifications.feature.js'

/**
 * Every notification type's `data` schema, and the notification as a union discriminated by
 * `type` (the event spine's `notify` is typed by them; realtime/protocol.ts types
 * `notification:new` with them).
 */
export {
  NOTIFICATION_TYPES,
  Notification,
  NotificationDataSchemas,
  notificationSchemas,
} from './notifications.schemas.js'
export type { NotificationDataOf, NotificationType } from './notifications.schemas.js'

/** Listing, unread counts and event resync (the realtime layer answers its socket requests with them). */
export { notificationsService } from './notifications.service.js'

/** Stores notifications in the caller's transaction (the event spine's `notify`). */
export { insertNotifications } from './notifications.service.js'

/** The table this feature owns. */
export type { NotificationRow } from './notifications.tables.js'
