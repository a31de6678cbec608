/** The public surface of src/push: other folders import from here, never from its files. */

/** The feature (app.ts registers it after chat) and what it decorates the app with. */
export { pushFeature, pushConfigOf, type PushFeatureOptions, type PushModule } from './push.feature.js'

/** The providers' interface: senders per platform (tests inject recording ones). */
export type { PushDevice, PushMessage, PushPlatform, PushResult, PushSender } from './providers.js'

/**
 * Notification preferences of users (the unread digest reads `email`, `unreadDigest` and
 * `quietHours`; muted conversations are chat's `conversationMutedSql`).
 */
export { NOTIFICATION_TYPES, inQuietHours, preferencesOf } from './preferences.js'
export type { NotificationPreferences, NotificationType, QuietHours } from './preferences.js'

/** Unread counts, and `unread:updated` in the caller's transaction (notifications' mark-read calls it). */
export { emitUnread, unreadOf, type UnreadCounts } from './unread.js'

/** Errors (the catalogue). */
export { PushErrors } from './push.errors.js'
