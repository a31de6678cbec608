import { defineError } from '../shared/index.js'

/** Error codes of the unread digest (stable; clients switch on `code`). */
export const DigestErrors = {
  /** The unsubscribe link's token was not made by this server (altered, or an old secret). */
  linkInvalid: defineError('DIGEST_LINK_INVALID', 400, 'This unsubscribe link is not valid'),
}
