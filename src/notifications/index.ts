/** The public surface of src/notifications: other folders import from here, never from its files. */

/** The feature's routes (app.ts registers them). */
export { notificationsRoutes } from './notifications.routes.js'

/** Listing, unread counts and event resync (the realtime layer answers its socket requests with them). */
export { notificationsService } from './notifications.service.js'

/** Stores notifications in the caller's transaction (the event spine's `notify`). */
export { insertNotifications } from './notifications.service.js'

/** The table this feature owns. */
export type { NotificationRow } from './notifications.tables.js'
