import { Expo, type ExpoPushMessage, type ExpoPushTicket } from 'expo-server-sdk'
import type { PushDevice, PushMessage, PushResult, PushSender } from '../providers.js'
import { describeAnswer, fitBody, post, retryResult, ttlOf } from './http.js'

/*
 * Expo push. expo-server-sdk fixes its URL when it is loaded (EXPO_BASE_URL, "for internal
 * Expo use"), has no timeout and retries 429 on its own without reading Retry-After, so we
 * post its documented JSON ourselves, with its types and its token check.
 */

export const EXPO_PUSH_URL = 'https://exp.host/--/api/v2/push/send'

/** Expo refuses a message whose JSON is over 4096 bytes (ticket error MessageTooBig). */
const EXPO_MAX_MESSAGE = 4096

/** The Expo message for one device. Silent: no title or body, so nothing shows; the app wakes on iOS. */
export function expoMessage(token: string, message: PushMessage): ExpoPushMessage {
  const expo: ExpoPushMessage = { to: token, data: message.data }
  if (message.silent) {
    expo.priority = 'normal'
    expo._contentAvailable = true
  } else {
    expo.title = message.title
    expo.body = message.body
    expo.sound = 'default'
    expo.priority = 'high'
  }
  if (message.badge !== undefined) expo.badge = message.badge
  if (message.collapseKey !== undefined) expo.collapseId = message.collapseKey
  const ttl = ttlOf(message)
  if (ttl !== undefined) expo.ttl = ttl
  return expo
}

type ExpoAnswer = { data?: unknown; errors?: { code?: string; message?: string }[] }

export type ExpoSenderOptions = { accessToken?: string; pushUrl?: string; timeoutMs: number }

export function createExpoSender(opts: ExpoSenderOptions): PushSender {
  const url = opts.pushUrl ?? EXPO_PUSH_URL
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' }
  if (opts.accessToken) headers.authorization = `Bearer ${opts.accessToken}`

  async function send(device: PushDevice, message: PushMessage): Promise<PushResult> {
    const token = device.token
    // A token Expo could never deliver to (not `ExponentPushToken[...]`).
    if (!token || !Expo.isExpoPushToken(token)) return { outcome: 'gone' }
    const fitted = fitBody(message, EXPO_MAX_MESSAGE, (m) => Buffer.byteLength(JSON.stringify(expoMessage(token, m))))
    if (!fitted) return { outcome: 'failed', error: `Expo message over ${EXPO_MAX_MESSAGE} bytes even without a body` }

    const sent = await post(
      'Expo',
      url,
      { headers, body: JSON.stringify([expoMessage(token, fitted)]) },
      opts.timeoutMs,
    )
    if ('unanswered' in sent) return sent.unanswered
    const answer = sent.answer
    let parsed: ExpoAnswer | undefined
    try {
      parsed = JSON.parse(answer.text) as ExpoAnswer
    } catch {
      parsed = undefined
    }
    const requestError = parsed?.errors?.[0]
    const detail = requestError ? `${requestError.code ?? ''} ${requestError.message ?? ''}`.trim() : undefined
    if (answer.status === 429 || answer.status >= 500)
      return retryResult(describeAnswer('Expo', answer, detail), answer.headers.get('retry-after'))
    // 400 (a malformed request), 401/403 (the access token): the whole request was refused.
    if (answer.status !== 200 || requestError)
      return { outcome: 'failed', error: describeAnswer('Expo', answer, detail) }

    const tickets = Array.isArray(parsed?.data) ? (parsed.data as ExpoPushTicket[]) : [parsed?.data as ExpoPushTicket]
    const ticket = tickets[0]
    if (!ticket || typeof ticket !== 'object') return { outcome: 'retry', error: 'Expo answered without a push ticket' }
    if (ticket.status === 'ok') return { outcome: 'sent', providerId: ticket.id }
    const code = ticket.details?.error
    const error = `Expo ticket ${code ?? 'error'}: ${ticket.message}`
    if (code === 'DeviceNotRegistered') return { outcome: 'gone' }
    if (code === 'MessageRateExceeded') return { outcome: 'retry', error }
    // MessageTooBig, InvalidCredentials, MismatchSenderId: this message or our set-up.
    return { outcome: 'failed', error }
  }

  return { platform: 'expo', send }
}
