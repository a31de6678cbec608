import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { JWT } from 'google-auth-library'
import type { PushDevice, PushMessage, PushResult, PushSender } from '../providers.js'
import { describeAnswer, fitBody, post, retryResult, ttlOf, type HttpAnswer } from './http.js'

/*
 * Firebase Cloud Messaging, HTTP v1 (Android, and iOS through APNs). google-auth-library's JWT
 * client signs the service account's RS256 assertion and trades it for a bearer, cached until
 * shortly before it expires; the send itself is one fetch. The library always posts to and
 * signs for Google's token URL: a request interceptor points it at GOOGLE_TOKEN_URL (or the
 * account's `token_uri`) and turns off its own retries (the outbox retries, with back-off).
 */

export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token'
export const FCM_BASE_URL = 'https://fcm.googleapis.com'
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'

/** The fields of a Google service-account key file that FCM needs. */
export type ServiceAccount = {
  project_id: string
  client_email: string
  private_key: string
  private_key_id?: string
  token_uri?: string
}

/** FCM_SERVICE_ACCOUNT: the key file's JSON itself, or the path of the file. Throws when unusable. */
export function loadServiceAccount(jsonOrPath: string): ServiceAccount {
  const text = jsonOrPath.trim().startsWith('{') ? jsonOrPath : readFileSync(jsonOrPath.trim(), 'utf8')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error('FCM_SERVICE_ACCOUNT is not JSON (nor the path of a JSON file)')
  }
  const account = parsed as Partial<Record<keyof ServiceAccount, unknown>>
  for (const field of ['project_id', 'client_email', 'private_key'] as const)
    if (typeof account[field] !== 'string' || account[field] === '')
      throw new Error(`FCM_SERVICE_ACCOUNT has no ${field}`)
  return parsed as ServiceAccount
}

/** apns-collapse-id may be at most 64 bytes: a longer key is replaced by its SHA-256 (64 hex digits). */
function apnsCollapseId(collapseKey: string): string {
  return Buffer.byteLength(collapseKey) <= 64 ? collapseKey : createHash('sha256').update(collapseKey).digest('hex')
}

/** The HTTP v1 `message` for one device. */
export function fcmMessage(token: string, message: PushMessage, now = Date.now()): Record<string, unknown> {
  const loud = !message.silent
  const ttl = ttlOf(message)
  const apnsHeaders: Record<string, string> = {
    // A push that only wakes the app or sets the badge must go at priority 5.
    'apns-priority': loud ? '10' : '5',
    'apns-push-type': loud || message.badge !== undefined ? 'alert' : 'background',
  }
  if (message.collapseKey !== undefined) apnsHeaders['apns-collapse-id'] = apnsCollapseId(message.collapseKey)
  if (ttl !== undefined) apnsHeaders['apns-expiration'] = String(Math.floor(now / 1000) + ttl)
  const aps: Record<string, unknown> = loud ? { sound: 'default' } : { 'content-available': 1 }
  if (message.badge !== undefined) aps.badge = message.badge
  return {
    token,
    // Without a notification block it is a data message: nothing shown, the app gets `data`.
    ...(loud ? { notification: { title: message.title, body: message.body } } : {}),
    data: message.data,
    android: {
      priority: loud ? 'high' : 'normal',
      ...(message.collapseKey !== undefined ? { collapse_key: message.collapseKey } : {}),
      ...(ttl !== undefined ? { ttl: `${ttl}s` } : {}),
    },
    apns: { headers: apnsHeaders, payload: { aps } },
  }
}

/** FCM's own limit on a message's payload (notification and data): 4096 bytes. */
const FCM_MAX_PAYLOAD = 4096

type FcmErrorBody = {
  error?: {
    code?: number
    message?: string
    status?: string
    details?: { '@type'?: string; errorCode?: string; fieldViolations?: { field?: string }[] }[]
  }
}

function fcmError(answer: HttpAnswer): { detail?: string; errorCode?: string; onToken: boolean } {
  let body: FcmErrorBody
  try {
    body = JSON.parse(answer.text) as FcmErrorBody
  } catch {
    return { onToken: false }
  }
  if (!body || typeof body !== 'object') return { onToken: false }
  const details = Array.isArray(body.error?.details) ? body.error.details : []
  const errorCode = details.find((d) => typeof d.errorCode === 'string')?.errorCode
  const message = typeof body.error?.message === 'string' ? body.error.message : undefined
  // FCM says "The registration token is not a valid FCM registration token"; older answers
  // name the field instead.
  const fields = details.flatMap((d) => d.fieldViolations?.map((v) => v.field) ?? [])
  const onToken = /registration token/i.test(message ?? '') || fields.includes('message.token')
  const status = body.error?.status
  const detail = [
    status,
    errorCode !== status ? errorCode : undefined,
    fields.length ? `(${fields.join(', ')})` : undefined,
    message,
  ]
    .filter(Boolean)
    .join(' ')
  return { detail: detail || undefined, errorCode, onToken }
}

/** A failed token exchange, as google-auth-library's transport (gaxios) reports it. */
type TokenError = {
  status?: number
  response?: { status?: number; headers?: { get?: (name: string) => string | null }; data?: unknown }
  message?: string
}

function tokenExchangeResult(err: unknown): PushResult {
  const e = (err ?? {}) as TokenError
  const status = e.response?.status ?? e.status
  const message = `FCM token exchange: ${e.message ?? String(err)}`
  if (status === undefined || status === 429 || status >= 500) {
    // gaxios's Headers are not always this realm's: ask for get() rather than instanceof.
    const headers = e.response?.headers
    const retryAfter = typeof headers?.get === 'function' ? headers.get('retry-after') : undefined
    return retryResult(message, retryAfter)
  }
  // invalid_grant and friends: a wrong key, a deleted account, a clock far off.
  return { outcome: 'failed', error: message }
}

export type FcmSenderOptions = { serviceAccount: string; baseUrl?: string; tokenUrl?: string; timeoutMs: number }

export function createFcmSender(opts: FcmSenderOptions): PushSender {
  const account = loadServiceAccount(opts.serviceAccount)
  const tokenUrl = opts.tokenUrl ?? account.token_uri ?? GOOGLE_TOKEN_URL
  const sendUrl = `${(opts.baseUrl ?? FCM_BASE_URL).replace(/\/+$/, '')}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`

  function newAuthClient(): JWT {
    const jwt = new JWT({
      email: account.client_email,
      key: account.private_key,
      ...(account.private_key_id ? { keyId: account.private_key_id } : {}),
      scopes: [FCM_SCOPE],
      transporterOptions: { timeout: opts.timeoutMs },
    })
    jwt.transporter.interceptors.request.add({
      resolved: (request) => {
        if (request.url.href === GOOGLE_TOKEN_URL) {
          request.url = new URL(tokenUrl)
          request.retryConfig = { ...request.retryConfig, retry: 0, noResponseRetries: 0 }
        }
        return Promise.resolve(request)
      },
    })
    return jwt
  }
  let auth = newAuthClient()

  async function bearer(): Promise<{ token: string } | { failure: PushResult }> {
    try {
      const { token } = await auth.getAccessToken()
      if (!token) return { failure: { outcome: 'failed', error: 'FCM token exchange answered no access_token' } }
      return { token }
    } catch (err) {
      return { failure: tokenExchangeResult(err) }
    }
  }

  async function attempt(body: string): Promise<{ answer: HttpAnswer } | { unanswered: PushResult }> {
    const access = await bearer()
    if ('failure' in access) return { unanswered: access.failure }
    return post(
      'FCM',
      sendUrl,
      { headers: { authorization: `Bearer ${access.token}`, 'content-type': 'application/json; charset=utf-8' }, body },
      opts.timeoutMs,
    )
  }

  async function send(device: PushDevice, message: PushMessage): Promise<PushResult> {
    if (!device.token) return { outcome: 'gone' }
    const fitted = fitBody(message, FCM_MAX_PAYLOAD, (m) =>
      Buffer.byteLength(JSON.stringify({ notification: { title: m.title, body: m.body }, data: m.data })),
    )
    if (!fitted) return { outcome: 'failed', error: `FCM payload over ${FCM_MAX_PAYLOAD} bytes even without a body` }
    const body = JSON.stringify({ message: fcmMessage(device.token, fitted) })

    let sent = await attempt(body)
    if ('answer' in sent && sent.answer.status === 401) {
      // The bearer was revoked or expired early: one more try with a fresh one.
      auth = newAuthClient()
      sent = await attempt(body)
    }
    if ('unanswered' in sent) return sent.unanswered
    const answer = sent.answer
    if (answer.status === 200) {
      let name: unknown
      try {
        name = (JSON.parse(answer.text) as { name?: unknown }).name
      } catch {
        name = undefined
      }
      return typeof name === 'string' ? { outcome: 'sent', providerId: name } : { outcome: 'sent' }
    }
    const error = fcmError(answer)
    const describe = () => describeAnswer('FCM', answer, error.detail)
    if (error.errorCode === 'UNREGISTERED') return { outcome: 'gone' }
    if (answer.status === 400 && error.onToken) return { outcome: 'gone' }
    if (answer.status === 429 || answer.status >= 500) return retryResult(describe(), answer.headers.get('retry-after'))
    if (answer.status === 401) auth = newAuthClient()
    // 400 on the message, 401 twice, 403 (SENDER_ID_MISMATCH, PERMISSION_DENIED: the token
    // belongs to another project, or the account may not send; deleting the device would be
    // wrong when it is our configuration that is).
    return { outcome: 'failed', error: describe() }
  }

  return { platform: 'fcm', send }
}
