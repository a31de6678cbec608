/**
 * Oja's live events over Socket.IO, typed. The connection signs in with the REST client's
 * access token (refreshed first when it is about to expire, and on every reconnect), keeps
 * the highest `seq` it has seen and sends it on reconnect so the server replays what was
 * missed, in order; an event it has already seen (a replay racing a live one) is dropped.
 *
 * ```ts
 * const live = connectLive(oja, { lastSeq: saved })
 * live.on('message:new', (message) => show(message))
 * const sent = await live.send('message:send', { conversationId, body: 'Hello', clientId })
 * ```
 */
import { io, type Socket } from 'socket.io-client'
import type { OjaClient, Schemas } from './index.js'

/** What `message:read` carries. */
export type ReadReceipt = { conversationId: string; userId: string; upToMessageId: string; readAt: string }
export type TypingEvent = { conversationId: string; userId: string; isTyping: boolean }
export type OrderStatus = { orderId: string; paymentStatus: string; shipments: { id: string; status: string }[] }

/** Server → client events' data, by event. Stored ones arrive as `{seq, data}`. */
export type StoredEvents = {
  'message:new': Schemas['Message']
  'message:read': ReadReceipt
  'offer:updated': Schemas['Offer']
  'notification:new': Schemas['Notification']
  'order:status': OrderStatus
  'unread:updated': Schemas['Unread']
}
/** Events that are not stored (no `seq`, not replayed). */
export type UnstoredEvents = {
  typing: TypingEvent
  'admin:flag': { reviewId: string; reason: string }
  'admin:report': { listingId: string; reportId: string; reason: string }
  'admin:dispute': { disputeId: string; shipmentId: string }
  'session:ended': { reason: string; code: string }
}
export type LiveEvents = StoredEvents & UnstoredEvents

/** Client → server requests and what their ack carries. */
export type LiveRequests = {
  'message:send': { payload: { conversationId: string; body: string; clientId: string }; result: Schemas['Message'] }
  'conversation:read': {
    payload: { conversationId: string; upToMessageId: string }
    result: ReadReceipt & { unreadCount: number }
  }
  typing: { payload: { conversationId: string; isTyping: boolean }; result: { delivered: true } }
  'auth:refresh': { payload: { token: string }; result: { expiresAt: string } }
}

export type AckError = {
  ok: false
  code: string
  message: string
  errors?: { path: string; message: string }[]
  retryAfter?: number
}
export type Ack<T> = { ok: true; data: T } | AckError

/** A refused request: its ack's code (VALIDATION_FAILED, RATE_LIMITED, OVERLOADED, ...), or TIMEOUT. */
export class LiveRequestError extends Error {
  constructor(readonly ack: AckError) {
    super(`${ack.code}: ${ack.message}`)
    this.name = 'LiveRequestError'
  }
}

export type LiveOptions = {
  /** The highest seq the app has handled (saved across restarts); missed events after it come first. */
  lastSeq?: number
  /** Told of each new highest seq, to save it. */
  onSeq?: (seq: number) => void
  /** How long a request waits for its ack (default 10 s). */
  ackTimeoutMs?: number
  /** socket.io-client's own options (transports, reconnection delays, ...). */
  socket?: Parameters<typeof io>[1]
}

export type LiveClient = {
  socket: Socket
  /** The highest seq received. */
  readonly lastSeq: number
  /** Listens to an event; stored events are handed over once each, in seq order. */
  on<E extends keyof LiveEvents>(event: E, handler: (data: LiveEvents[E], seq: number | undefined) => void): () => void
  /** Sends a request and resolves with its ack's data, or rejects with LiveRequestError. */
  send<R extends keyof LiveRequests>(event: R, payload: LiveRequests[R]['payload']): Promise<LiveRequests[R]['result']>
  /** Resolves once connected (the first time, or again after a drop). */
  connected(): Promise<void>
  close(): void
}

export function connectLive(client: OjaClient, baseUrl: string, options: LiveOptions = {}): LiveClient {
  let lastSeq = options.lastSeq ?? 0
  const ackTimeoutMs = options.ackTimeoutMs ?? 10_000
  const socket = io(baseUrl, {
    path: '/socket.io/',
    transports: ['websocket'],
    ...options.socket,
    // Called on every (re)connect: a fresh token and the seq to resume after.
    auth: (cb) => {
      client
        .accessToken()
        .then((token) => cb({ token: token ?? '', lastSeq }))
        .catch(() => cb({ token: '', lastSeq }))
    },
  })

  // An expired token at the handshake: refresh once, then connect again.
  socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
    if (err.data?.code !== 'TOKEN_EXPIRED') return
    void client.refresh().then((tokens) => {
      if (tokens) socket.connect()
    })
  })

  const handlers = new Map<string, Set<(data: never, seq: number | undefined) => void>>()
  socket.onAny((event: string, payload: { seq?: number; data?: unknown } | undefined) => {
    const seq = typeof payload?.seq === 'number' ? payload.seq : undefined
    if (seq !== undefined) {
      if (seq <= lastSeq) return // already handed over (a replay racing the live event)
      lastSeq = seq
      options.onSeq?.(seq)
    }
    const data = event === 'session:ended' ? payload : payload?.data
    for (const h of handlers.get(event) ?? []) h(data as never, seq)
  })

  return {
    socket,
    get lastSeq() {
      return lastSeq
    },
    on(event, handler) {
      const set = handlers.get(event) ?? new Set()
      set.add(handler as (data: never, seq: number | undefined) => void)
      handlers.set(event, set)
      return () => set.delete(handler as (data: never, seq: number | undefined) => void)
    },
    async send(event, payload) {
      let ack: Ack<unknown>
      try {
        ack = (await socket.timeout(ackTimeoutMs).emitWithAck(event, payload)) as Ack<unknown>
      } catch {
        throw new LiveRequestError({ ok: false, code: 'TIMEOUT', message: `no answer within ${ackTimeoutMs} ms` })
      }
      if (!ack.ok) throw new LiveRequestError(ack)
      return ack.data as never
    },
    connected() {
      if (socket.connected) return Promise.resolve()
      return new Promise((resolve) => socket.once('connect', () => resolve()))
    },
    close() {
      socket.close()
    },
  }
}
