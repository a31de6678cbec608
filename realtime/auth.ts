import type { FastifyInstance } from 'fastify'
import { resolveAccessToken, sessionEndedError, sessionEnds } from '../src/auth/index.js'
import type { Db } from '../src/db/index.js'
import type { Actor } from '../src/shared/index.js'
import { Errors } from '../src/shared/index.js'
import { RealtimeErrors } from './realtime.errors.js'

/** The user's latest seq (0 before the first event). */
export async function latestSeq(db: Db, userId: string): Promise<number> {
  const row = (await db('user_event_counters').where('user_id', userId).first('last_seq')) as
    { last_seq: number } | undefined
  return row?.last_seq ?? 0
}

/**
 * Authenticates a live connection with the same rules as REST (signature, expiry, live
 * session, not banned) and checks its `lastSeq`: a client cannot be ahead of the server
 * (it would silently skip events), so that is refused rather than guessed at.
 */
export async function authenticateLive(
  app: FastifyInstance,
  token: unknown,
  lastSeqInput: unknown,
): Promise<{ actor: Actor; lastSeq?: number; expiresAt: number }> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096)
    throw Errors.unauthenticated('Pass the access token (auth.token for Socket.IO, ?token= for the feed)')
  let lastSeq: number | undefined
  if (lastSeqInput !== undefined && lastSeqInput !== null && lastSeqInput !== '') {
    lastSeq =
      typeof lastSeqInput === 'string' && /^\d{1,15}$/.test(lastSeqInput)
        ? Number(lastSeqInput)
        : (lastSeqInput as number)
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) {
      throw Errors.validation('lastSeq must be a whole number ≥ 0', [
        { path: '/lastSeq', message: 'must be an integer >= 0' },
      ])
    }
  }
  const actor = await resolveAccessToken(app, app.db, token)
  if (lastSeq !== undefined && lastSeq > (await latestSeq(app.db, actor.id))) {
    throw RealtimeErrors.lastSeqAhead()
  }
  return { actor, expiresAt: tokenExpiry(app, token), ...(lastSeq !== undefined ? { lastSeq } : {}) }
}

/**
 * A user's live connections on this node are capped (LIVE_MAX_CONNECTIONS_PER_USER): a
 * leaked token or a reconnect loop cannot pin unbounded sockets, streams and buffers.
 */
export function checkConnectionCap(app: FastifyInstance, open: number): void {
  const max = app.config.LIVE_MAX_CONNECTIONS_PER_USER
  if (open >= max) throw RealtimeErrors.tooManyConnections(max)
}

/** When a verified access token expires (ms since the epoch). */
export function tokenExpiry(app: FastifyInstance, token: string): number {
  const { exp } = app.jwt.decode<{ exp?: number }>(token) ?? {}
  return typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY
}

/** Something with a deadline in a {@link Deadlines} heap (its fields are the heap's bookkeeping). */
export interface Expiring {
  /** When it expires (ms since the epoch); Infinity when it is not in the heap. */
  deadlineAt: number
  /** Its index in the heap; -1 when it is not in it. */
  deadlineSlot: number
  /** Runs once, at the deadline (it has left the heap by then). */
  expire(): void
}

/**
 * A live connection lives as long as its access token: at expiry it is closed (the client
 * reconnects with a fresh token and its lastSeq, or refreshes in-band first, which moves the
 * deadline); logout, reset, reuse and bans end it earlier, through the hub.
 *
 * The access-token deadlines of many connections on one timer (issue 16: a timer per
 * socket was memory for nothing): a binary min-heap on `deadlineAt`, with the one timer
 * armed for the earliest. Each expires at its own deadline, as precisely as a timer of its
 * own would. `set` moves a deadline (an in-band refresh), `clear` removes it (disconnect).
 */
export class Deadlines {
  private readonly heap: Expiring[] = []
  private timer: NodeJS.Timeout | undefined
  private armedFor = Number.POSITIVE_INFINITY

  get size(): number {
    return this.heap.length
  }

  set(item: Expiring, expiresAt: number): void {
    this.remove(item)
    if (Number.isFinite(expiresAt)) {
      item.deadlineAt = expiresAt
      item.deadlineSlot = this.heap.length
      this.heap.push(item)
      this.up(item.deadlineSlot)
    }
    this.arm()
  }

  clear(item: Expiring): void {
    this.remove(item)
    // No re-arming: a timer left for an earlier deadline fires, finds nothing due, and re-arms.
    if (this.heap.length === 0) this.stop()
  }

  /** Stops the timer (the items stay; `set` arms it again). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
  }

  private arm(): void {
    const next = this.heap[0]?.deadlineAt ?? Number.POSITIVE_INFINITY
    if (this.timer && next >= this.armedFor) return
    this.stop()
    if (!Number.isFinite(next)) return
    // setTimeout holds at most 2^31−1 ms; a longer wait re-arms itself.
    const wait = Math.max(0, Math.min(next - Date.now(), 2 ** 31 - 1))
    this.armedFor = next
    this.timer = setTimeout(() => this.fire(), wait)
    this.timer.unref()
  }

  private fire(): void {
    this.timer = undefined
    this.armedFor = Number.POSITIVE_INFINITY
    const now = Date.now()
    // Each leaves the heap before its expiry runs (which may set or clear others).
    for (let top = this.heap[0]; top && top.deadlineAt <= now; top = this.heap[0]) {
      this.remove(top)
      top.expire()
    }
    this.arm()
  }

  private remove(item: Expiring): void {
    const i = item.deadlineSlot
    if (i < 0 || this.heap[i] !== item) return
    item.deadlineSlot = -1
    item.deadlineAt = Number.POSITIVE_INFINITY
    const last = this.heap.pop()!
    if (last === item) return
    this.heap[i] = last
    last.deadlineSlot = i
    this.down(i)
    this.up(last.deadlineSlot)
  }

  private up(i: number): void {
    const h = this.heap
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]!.deadlineAt <= h[i]!.deadlineAt) break
      this.swap(i, p)
      i = p
    }
  }

  private down(i: number): void {
    const h = this.heap
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && h[l]!.deadlineAt < h[m]!.deadlineAt) m = l
      if (r < h.length && h[r]!.deadlineAt < h[m]!.deadlineAt) m = r
      if (m === i) return
      this.swap(i, m)
      i = m
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap
    const x = h[a]!
    const y = h[b]!
    h[a] = y
    h[b] = x
    y.deadlineSlot = a
    x.deadlineSlot = b
  }
}

/**
 * An in-band token refresh: the new access token must be valid and belong to the same user
 * and session as the connection (a refresh keeps the session). Answers its expiry.
 */
export async function refreshLive(
  app: FastifyInstance,
  current: Actor,
  token: unknown,
): Promise<{ actor: Actor; expiresAt: number }> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
    throw Errors.validation('Pass the new access token as {token}', [
      { path: '/token', message: 'must be a non-empty string' },
    ])
  }
  const actor = await resolveAccessToken(app, app.db, token)
  if (actor.id !== current.id || actor.sessionId !== current.sessionId) {
    throw RealtimeErrors.sessionMismatch()
  }
  return { actor, expiresAt: tokenExpiry(app, token) }
}

/**
 * Why a session is no longer live (`null` while it is): closes the race of a logout or a ban
 * committed while a handshake was in flight.
 */
export async function sessionEndReason(db: Db, actor: Actor): Promise<string | null> {
  return (await sessionEnds(db, [actor.sessionId])).get(actor.sessionId) ?? null
}

export { sessionEndedError }
