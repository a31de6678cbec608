import { createHmac, timingSafeEqual } from 'node:crypto'

/** Lowercase hex HMAC-SHA512 of the raw body, keyed with the secret key (Paystack's `x-paystack-signature`). */
export function signPaystackBody(rawBody: Buffer | string, secretKey: string): string {
  return createHmac('sha512', secretKey).update(rawBody).digest('hex')
}

/** Checks a webhook signature over the raw bytes in constant time. */
export function isValidPaystackSignature(rawBody: Buffer | undefined, header: unknown, secretKey: string): boolean {
  if (!rawBody || typeof header !== 'string' || !/^[0-9a-fA-F]{128}$/.test(header)) return false
  const expected = Buffer.from(signPaystackBody(rawBody, secretKey), 'hex')
  const given = Buffer.from(header, 'hex')
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** Whether a source address is on the allow-list (unset or empty list: everyone). */
export function isAllowedWebhookSource(ip: string, allowList: string | undefined): boolean {
  const allowed = (allowList ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (allowed.length === 0) return true
  const normalized = ip.startsWith('::ffff:') ? ip.slice(7) : ip
  return allowed.includes(normalized) || allowed.includes(ip)
}
