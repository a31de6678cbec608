import type { PushMessage, PushResult } from '../providers.js'

/*
 * What the three push senders share: one POST with a timeout whose network failures become a
 * `retry`, Retry-After read as seconds or an HTTP date, and a body cut to fit a payload limit.
 */

/** The push service's answer to one POST. */
export type HttpAnswer = { status: number; headers: Headers; text: string }

/**
 * One POST to a push service. No answer (refused connection, reset, DNS, the timeout) is a
 * `retry`: the service may or may not have taken the push, and a duplicate notification is
 * better than a lost one.
 */
export async function post(
  service: string,
  url: string,
  init: { headers: Record<string, string>; body: string | Buffer },
  timeoutMs: number,
): Promise<{ answer: HttpAnswer } | { unanswered: PushResult }> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(timeoutMs),
    })
    return { answer: { status: res.status, headers: res.headers, text: await res.text() } }
  } catch (err) {
    const name = (err as Error).name
    const error =
      name === 'TimeoutError' || name === 'AbortError'
        ? `${service} did not answer within ${timeoutMs} ms`
        : `${service} unreachable: ${causeOf(err)}`
    return { unanswered: { outcome: 'retry', error } }
  }
}

/** fetch says "fetch failed" and keeps the reason (ECONNREFUSED, ...) in `cause`. */
function causeOf(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause
  if (cause && typeof cause.code === 'string') return cause.code
  if (cause && typeof cause.message === 'string') return cause.message
  return (err as Error).message
}

/**
 * `Retry-After` in milliseconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable, 0 for a date already past.
 */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined
  const value = header.trim()
  if (/^\d+$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}

/** A `retry` outcome, with the wait the service asked for when it asked for one. */
export function retryResult(error: string, retryAfter: string | null | undefined): PushResult {
  const wait = retryAfterMs(retryAfter)
  return wait === undefined ? { outcome: 'retry', error } : { outcome: 'retry', retryAfterMs: wait, error }
}

/**
 * The message with its body shortened, at a character boundary and ending in `…`, so that
 * `size(message)` is at most `limit`; the message itself when it fits; undefined when even an
 * empty body does not (the title and data alone are too big).
 */
export function fitBody(
  message: PushMessage,
  limit: number,
  size: (m: PushMessage) => number,
): PushMessage | undefined {
  if (size(message) <= limit) return message
  if (size({ ...message, body: '' }) > limit) return undefined
  const chars = Array.from(message.body)
  const cut = (n: number): PushMessage => ({ ...message, body: n === 0 ? '' : `${chars.slice(0, n).join('')}…` })
  // The longest prefix that fits: size grows with n, so search for it.
  let fits = 0
  let tooBig = chars.length
  while (tooBig - fits > 1) {
    const mid = Math.floor((fits + tooBig) / 2)
    if (size(cut(mid)) <= limit) fits = mid
    else tooBig = mid
  }
  return cut(fits)
}

/** The longest TTL every service takes (FCM: 4 weeks). */
export const MAX_TTL_SECONDS = 2_419_200

/** `ttlSeconds` as a whole number of seconds between 0 and 4 weeks; undefined leaves each service its default. */
export function ttlOf(message: PushMessage): number | undefined {
  const ttl = message.ttlSeconds
  if (ttl === undefined || Number.isNaN(ttl)) return undefined
  return Math.min(MAX_TTL_SECONDS, Math.max(0, Math.floor(ttl)))
}

/** A short description of a push service's error answer for the outbox's log. */
export function describeAnswer(service: string, answer: HttpAnswer, detail?: string): string {
  const text = detail ?? answer.text.slice(0, 200)
  return `${service} answered ${answer.status}${text ? `: ${text}` : ''}`
}
