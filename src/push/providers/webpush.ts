import { createHash, createPublicKey } from 'node:crypto'
import webpush from 'web-push'
import type { PushDevice, PushMessage, PushResult, PushSender } from '../providers.js'
import { describeAnswer, fitBody, post, retryResult, ttlOf } from './http.js'

/*
 * Web Push (RFC 8030, payload encryption RFC 8291, VAPID RFC 8292). The `web-push` library
 * encrypts the payload (aes128gcm) and signs the VAPID JWT through generateRequestDetails();
 * we send the request ourselves, because its sendNotification() speaks only https (a test's
 * push service is http on loopback) and its timeout is an idle-socket timeout, not a deadline.
 */

/**
 * The largest payload (bytes of JSON) that fits the 4096 bytes push services accept once
 * encrypted as one aes128gcm record: 86 bytes of header (salt 16, record size 4, key id length 1,
 * the sender's public key 65), a padding delimiter (1) and the GCM tag (16).
 */
export const WEB_PUSH_MAX_PLAINTEXT = 4096 - 86 - 1 - 16

/**
 * A Web Push `Topic` for a collapse key: at most 32 characters of the URL-safe base64 alphabet,
 * which a UUID (36 characters with `-`) is not, so the key is hashed: 24 bytes of its SHA-256,
 * 32 characters, the same for the same key.
 */
export function webPushTopic(collapseKey: string): string {
  return createHash('sha256').update(collapseKey).digest().subarray(0, 24).toString('base64url')
}

/**
 * What the service worker receives: `silent` is the Notification API's option (no sound, no
 * vibration); browsers show a notification for every push, so title and body stay.
 */
function payloadOf(message: PushMessage): string {
  return JSON.stringify({
    title: message.title,
    body: message.body,
    data: message.data,
    ...(message.badge !== undefined ? { badge: message.badge } : {}),
    ...(message.silent ? { silent: true } : {}),
  })
}

/**
 * Whether a subscription can ever take a push: an http(s) endpoint, `p256dh` a point on P-256
 * (65 bytes, uncompressed) and an `auth` secret of at least 16 bytes. One that cannot is gone.
 */
function usable(subscription: NonNullable<PushDevice['subscription']>): boolean {
  let endpoint: URL
  try {
    endpoint = new URL(subscription.endpoint)
  } catch {
    return false
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') return false
  const p256dh = Buffer.from(subscription.keys?.p256dh ?? '', 'base64url')
  if (Buffer.from(subscription.keys?.auth ?? '', 'base64url').length < 16) return false
  if (p256dh.length !== 65 || p256dh[0] !== 4) return false
  try {
    createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: p256dh.subarray(1, 33).toString('base64url'),
        y: p256dh.subarray(33).toString('base64url'),
      },
      format: 'jwk',
    })
    return true
  } catch {
    return false
  }
}

export type WebPushSenderOptions = { publicKey: string; privateKey: string; subject: string; timeoutMs: number }

export function createWebPushSender(opts: WebPushSenderOptions): PushSender {
  const vapidDetails = { subject: opts.subject, publicKey: opts.publicKey, privateKey: opts.privateKey }
  // Throws for a subject that is not mailto:/https: and for keys of the wrong length or alphabet.
  webpush.getVapidHeaders('https://push.example', opts.subject, opts.publicKey, opts.privateKey, 'aes128gcm')

  async function send(device: PushDevice, message: PushMessage): Promise<PushResult> {
    const subscription = device.subscription
    if (!subscription || !usable(subscription)) return { outcome: 'gone' }
    const fitted = fitBody(message, WEB_PUSH_MAX_PLAINTEXT, (m) => Buffer.byteLength(payloadOf(m)))
    if (!fitted)
      return { outcome: 'failed', error: `Web Push payload over ${WEB_PUSH_MAX_PLAINTEXT} bytes even without a body` }

    const ttl = ttlOf(message)
    let request: ReturnType<typeof webpush.generateRequestDetails>
    try {
      request = webpush.generateRequestDetails(subscription, payloadOf(fitted), {
        vapidDetails,
        contentEncoding: 'aes128gcm',
        urgency: message.silent ? 'low' : 'normal',
        ...(ttl !== undefined ? { TTL: ttl } : {}),
        ...(message.collapseKey !== undefined ? { topic: webPushTopic(message.collapseKey) } : {}),
      })
    } catch (err) {
      return { outcome: 'failed', error: `Web Push request not made: ${(err as Error).message}` }
    }
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch works out the length of the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value)
    }
    const sent = await post(
      'the Web Push service',
      request.endpoint,
      { headers, body: request.body ?? Buffer.alloc(0) },
      opts.timeoutMs,
    )
    if ('unanswered' in sent) return sent.unanswered
    const answer = sent.answer
    const status = answer.status
    if (status >= 200 && status < 300) {
      const location = answer.headers.get('location')
      return location ? { outcome: 'sent', providerId: location } : { outcome: 'sent' }
    }
    if (status === 404 || status === 410) return { outcome: 'gone' }
    if (status === 429 || status >= 500)
      return retryResult(describeAnswer('the Web Push service', answer), answer.headers.get('retry-after'))
    if (status === 413)
      return { outcome: 'failed', error: describeAnswer('the Web Push service', answer, 'payload too big') }
    // 400 malformed, 401/403 VAPID refused (a wrong key, or another key than the subscription's).
    return { outcome: 'failed', error: describeAnswer('the Web Push service', answer) }
  }

  return { platform: 'webpush', send }
}
