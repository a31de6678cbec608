/** The public surface of src/digest: other folders import from here, never from its files. */

/** The feature: the sweeper job and the unsubscribe route (app.ts registers it after chat). */
export { digestFeature } from './digest.feature.js'

/**
 * The user's digest switch, for whoever else turns it (the notification preferences'
 * `unreadDigest` is its other door).
 */
export { digestOffOf, isDigestOff, setDigestOff } from './digest.settings.js'

/** The tables this feature owns. */
export type { DigestCursorRow, DigestRunRow, DigestSettingsRow } from './digest.tables.js'
