/**
 * The live protocol, typed once for the server and its clients (tests, the bench, apps):
 * Socket.IO at `/socket.io/` and the plain WebSocket feed at `/v1/stream`.
 */
import type { Actor } from '../src/shared/index.js'
import type { AdminEvents } from '../src/events/index.js'
import type { Notification } from '../src/notifications/index.js'
import type {
  ConversationReadPayload,
  Message,
  MessageSendPayload,
  Offer,
  ReadReceipt,
  TypingEvent,
  TypingPayload,
} from '../src/chat/index.js'

/** A stored event as a socket receives it: the user's `seq` and the event's data. */
export type Delivered<T> = { seq: number; data: T }

/** An event that is not stored (typing, admin events): no `seq`, not in the resync. */
export type Unstored<T> = { data: T }

/** The admin events' data, by event. */
export type { AdminEvents } from '../src/events/index.js'

/** The handshake: `io(url, { auth: { token, lastSeq } })`; pass a function to send the latest lastSeq on every reconnect. */
export type HandshakeAuth = { token: string; lastSeq?: number }

/** `connect_error`'s `err.data` when the handshake is refused (bad, expired or revoked token, bad lastSeq). */
export type ConnectErrorData = { code: string; status: number }

export type AckOk<T> = { ok: true; data: T }
export type AckError = {
  ok: false
  code: string
  message: string
  errors?: { path: string; message: string }[]
  retryAfter?: number
}
export type Ack<T> = AckOk<T> | AckError

/** A notification as `notification:new` carries it: one of the types, each with its own `data` (the API's `Notification`). */
export type NotificationData = Notification
export type OrderStatusData = { orderId: string; paymentStatus: string; shipments: { id: string; status: string }[] }

/** Server → client. Stored events carry `{seq, data}`; `typing`, the admin events and `session:ended` are not stored. */
export interface ServerToClientEvents {
  'message:new': (payload: Delivered<Message>) => void
  'message:read': (payload: Delivered<ReadReceipt>) => void
  'offer:updated': (payload: Delivered<Offer>) => void
  'notification:new': (payload: Delivered<NotificationData>) => void
  'order:status': (payload: Delivered<OrderStatusData>) => void
  /** The caller's unread counts changed (a message to them, a read on any device, notifications read). */
  'unread:updated': (payload: Delivered<{ messages: number; notifications: number; conversations: number }>) => void
  /**
   * Admin events, to every live connection of every admin (the `admins` room) and nobody
   * else; not stored, so not in the resync: after a reconnect the console reloads its queues.
   */
  'admin:flag': (payload: Unstored<AdminEvents['admin:flag']>) => void
  'admin:report': (payload: Unstored<AdminEvents['admin:report']>) => void
  'admin:dispute': (payload: Unstored<AdminEvents['admin:dispute']>) => void
  typing: (payload: Unstored<TypingEvent>) => void
  /**
   * Sent just before the server ends the connection for good (logout, ban, password reset);
   * `code` is what REST now answers that session's token: `ACCOUNT_BANNED` or `SESSION_REVOKED`.
   */
  'session:ended': (payload: { reason: string; code: string }) => void
}

/** Client → server, each acknowledged with `{ok:true,data}` or `{ok:false,code,message}`. */
export interface ClientToServerEvents {
  'message:send': (payload: MessageSendPayload, ack: (res: Ack<Message>) => void) => void
  'conversation:read': (
    payload: ConversationReadPayload,
    ack: (res: Ack<ReadReceipt & { unreadCount: number }>) => void,
  ) => void
  typing: (payload: TypingPayload, ack: (res: Ack<{ delivered: true }>) => void) => void
  /** A fresh access token of the same session, so the connection outlives the old one's expiry. */
  'auth:refresh': (payload: { token: string }, ack: (res: Ack<{ expiresAt: string }>) => void) => void
}

/** A stored event on the wire between nodes. */
export type WireEvent = { userId: string; seq: number; event: string; data: unknown }

/** An admin event on the wire between nodes (every node hands it to its admins' connections). */
export type AdminWireEvent = { event: string; data: unknown }

/** Node ↔ node through the adapter (serverSideEmit). */
export interface InterServerEvents {
  'oja:events': (events: WireEvent[]) => void
  'oja:admins': (events: AdminWireEvent[]) => void
  'oja:ephemeral': (userIds: string[], event: string, data: unknown) => void
  'oja:disconnect': (target: { userId: string; sessionId?: string; reason: string }) => void
  /** A node's Redis came back: its publishes during the outage may be lost, so every node re-reads. */
  'oja:resync': () => void
  'oja:presence': (userId: string, reply: (connections: number) => void) => void
}

export type SocketData = { actor: Actor; lastSeq?: number; expiresAt: number }

/** A plain WebSocket frame of `/v1/stream`; `seq` is null for events that are not stored. */
export type FeedFrame = { event: string; seq: number | null; data: unknown }
