import { createHmac, timingSafeEqual } from 'node:crypto'

const PURPOSE = 'oja:unread-digest:unsubscribe:'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * The unsubscribe link's token: `<userId>.<HMAC-SHA256(secret, purpose + userId)>`, base64url.
 * It never expires (a mail's link must keep working) and needs no table; it can do one thing
 * only, turn that user's digest off, and a new secret (JWT_SECRET) voids every old link.
 */
export function unsubscribeToken(secret: string, userId: string): string {
  return `${userId}.${mac(secret, userId).toString('base64url')}`
}

/** The user a token was made for, or null when it was not made with this secret. */
export function verifyUnsubscribeToken(secret: string, token: string): string | null {
  const [userId, sig, ...rest] = token.split('.')
  if (!userId || !sig || rest.length > 0 || !UUID.test(userId)) return null
  // Compared as text: base64url's unused bits make several spellings of the same bytes.
  const given = Buffer.from(sig)
  const expected = Buffer.from(mac(secret, userId).toString('base64url'))
  return given.length === expected.length && timingSafeEqual(given, expected) ? userId : null
}

/** What the route's schema accepts (a uuid, a dot, 43 base64url characters). */
export const UNSUBSCRIBE_TOKEN_PATTERN = '^[0-9a-f-]{36}\\.[A-Za-z0-9_-]{43}$'

const mac = (secret: string, userId: string) =>
  createHmac('sha256', secret)
    .update(PURPOSE + userId)
    .digest()
