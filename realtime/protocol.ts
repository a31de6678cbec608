/**
 * The live protocol, as TypeBox schemas (their types are `Static<...>` of them), for the
 * server and its clients (tests, the bench, apps): Socket.IO at `/socket.io/` and the plain
 * WebSocket feed at `/v1/stream`. The gateway validates with these schemas, the emitters'
 * data are these types, and realtime/asyncapi.ts documents exactly these.
 *
 * This module imports only `@sinclair/typebox` and pure schema modules (tests/asyncapi.test.ts
 * walks its imports), so a client can reuse it without the server.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import {
  ConversationReadPayload,
  Message,
  MessageSendPayload,
  Offer,
  ReadReceipt,
  TypingEvent,
  TypingPayload,
} from '../src/chat/chat.schemas.js'
import { AdminDisputeEvent, AdminFlagEvent, AdminReportEvent, UnreadCounts } from '../src/events/events.schemas.js'
import { Notification, notificationSchemas } from '../src/notifications/notifications.schemas.js'
import { OrderStatusEvent } from '../src/orders/orders.schemas.js'
import { OrNull, StrictObject } from '../src/shared/schemas.js'

/** A user's event sequence number: strictly increasing per user, in delivery order. */
export const Seq = Type.Integer({ minimum: 1, description: 'The user’s event sequence number, strictly increasing' })

/** The last `seq` a client has; the missed events are sent first, in order. */
export const LastSeq = Type.Integer({
  minimum: 0,
  description: 'The last seq the client has; the events after it are sent first, in order (0: everything kept)',
})

/** The access token, as the handshake (Socket.IO `auth.token`, the feed's `?token=`) carries it. */
export const AccessToken = Type.String({ minLength: 1, maxLength: 4096, description: 'Access token (JWT)' })

/** The Socket.IO handshake: `io(url, { auth: { token, lastSeq } })`; pass a function to send the latest lastSeq on every reconnect. */
export const HandshakeAuth = Type.Object(
  { token: AccessToken, lastSeq: Type.Optional(LastSeq) },
  { description: 'Socket.IO handshake `auth`' },
)
export type HandshakeAuth = Static<typeof HandshakeAuth>

/** The feed's query: `GET /v1/stream?token=&lastSeq=` (or the token as `Authorization: Bearer`). */
export const FeedQuery = StrictObject({
  token: Type.Optional(
    Type.String({ minLength: 1, maxLength: 4096, description: 'Access token (or send Authorization: Bearer)' }),
  ),
  lastSeq: Type.Optional(
    Type.Integer({ minimum: 0, description: 'The last seq the client has; the missed events are sent first' }),
  ),
})
export type FeedQuery = Static<typeof FeedQuery>

/** `connect_error`'s `err.data` when the handshake is refused (bad, expired or revoked token, bad lastSeq). */
export const ConnectErrorData = Type.Object(
  {
    code: Type.String({ description: 'The code REST would answer: UNAUTHENTICATED, LAST_SEQ_AHEAD, ...' }),
    status: Type.Integer({ description: 'The HTTP status REST would answer' }),
  },
  { description: '`err.data` of `connect_error` (`err.message` is the problem’s detail)' },
)
export type ConnectErrorData = Static<typeof ConnectErrorData>

/** A field error of a refused payload (as REST's problem `errors[]`). */
export const AckFieldError = Type.Object({ path: Type.String(), message: Type.String() })

/** A refused request: the code and message REST would answer. */
export const AckError = Type.Object(
  {
    ok: Type.Literal(false),
    code: Type.String({ description: 'Stable machine code, e.g. VALIDATION_FAILED' }),
    message: Type.String(),
    errors: Type.Optional(Type.Array(AckFieldError)),
    retryAfter: Type.Optional(Type.Integer({ minimum: 1, description: 'Seconds to wait (RATE_LIMITED, OVERLOADED)' })),
  },
  { description: 'The request was refused' },
)
export type AckError = Static<typeof AckError>

/** An accepted request's ack schema: `{ok:true, data}`. */
export const AckOk = <T extends TSchema>(data: T) => Type.Object({ ok: Type.Literal(true), data })
export type AckOk<T> = { ok: true; data: T }
export type Ack<T> = AckOk<T> | AckError

/** A stored event as a socket receives it: the user's `seq` and the event's data. */
export const Delivered = <T extends TSchema>(data: T) => Type.Object({ seq: Seq, data })
export type Delivered<T> = { seq: number; data: T }

/** An event that is not stored (typing, admin events): no `seq`, not in the resync. */
export const Unstored = <T extends TSchema>(data: T) => Type.Object({ data })
export type Unstored<T> = { data: T }

/** A plain WebSocket frame of `/v1/stream`; `seq` is null for events that are not stored. */
export const FeedFrame = Type.Object(
  {
    event: Type.String({ description: 'The event’s name, as Socket.IO names it' }),
    seq: OrNull(Seq),
    data: Type.Unknown({ description: 'The event’s data' }),
  },
  { description: 'One `/v1/stream` text frame (JSON)' },
)
export type FeedFrame = Static<typeof FeedFrame>

/** `conversation:read`'s answer: the receipt and what is left unread in the conversation. */
export const ConversationReadResult = Type.Composite([
  ReadReceipt,
  Type.Object({ unreadCount: Type.Integer({ minimum: 0 }) }),
])
export type ConversationReadResult = Static<typeof ConversationReadResult>

/** `typing`'s answer. */
export const TypingResult = Type.Object({ delivered: Type.Literal(true) })

/** `auth:refresh`: a fresh access token of the same session. */
export const AuthRefreshPayload = Type.Object({ token: AccessToken })
export const AuthRefreshResult = Type.Object({
  expiresAt: Type.String({ format: 'date-time', description: 'When the connection now ends (the new token’s expiry)' }),
})

/** `session:ended`'s data. */
export const SessionEnded = Type.Object({
  reason: Type.String({ description: 'logout, banned, password_reset, ...' }),
  code: Type.String({ description: 'What REST now answers the session’s token: ACCOUNT_BANNED or SESSION_REVOKED' }),
})

/** The data of `notification:new`: one of the notification types, each with its own `data`. */
export type NotificationData = Notification
/** The data of `order:status`. */
export type OrderStatusData = OrderStatusEvent

/**
 * How a server event travels on Socket.IO: `stored` as `{seq, data}` (kept, in the resync),
 * `unstored` as `{data}` (not kept), `bare` as the data itself (connection control).
 */
export type Framing = 'stored' | 'unstored' | 'bare'

/** One server → client event: its data (typed `T`), its framing, which transports carry it. */
export type ServerEventSpec<T = unknown, F extends Framing = Framing> = {
  data: TSchema
  framing: F
  /** `false`: Socket.IO only (the feed says it with a close code). */
  feed: boolean
  summary: string
  description?: string
  example: T
  /** Phantom: the data's TypeScript type (a schema with `Type.Ref`s has no useful `Static`). */
  readonly _type?: T
}

type SpecFields<T> = Omit<ServerEventSpec<T>, 'data' | 'framing' | 'feed'>
const stored = <T>(data: TSchema, spec: SpecFields<T>) =>
  ({ data, framing: 'stored', feed: true, ...spec }) as ServerEventSpec<T, 'stored'>
const unstored = <T>(data: TSchema, spec: SpecFields<T>) =>
  ({ data, framing: 'unstored', feed: true, ...spec }) as ServerEventSpec<T, 'unstored'>
const bare = <T>(data: TSchema, spec: SpecFields<T>) =>
  ({ data, framing: 'bare', feed: false, ...spec }) as ServerEventSpec<T, 'bare'>

const ids = {
  conversation: '0b1d3c52-7a7e-4c57-9f52-3e4f8a3f6a11',
  message: '5c2f0e8e-1d0b-4d1e-8b59-2c9f3c7e4b21',
  listing: '8f4e2b1a-3c5d-4e6f-9a7b-1c2d3e4f5a61',
  buyer: '2a9c1f0e-6b7d-4a8e-9c1f-0e2d3b4a5c71',
  seller: '7e6d5c4b-3a29-4180-b7c6-d5e4f3a2b181',
  offer: '3d2c1b0a-9f8e-4d7c-a6b5-4c3d2e1f0a91',
  order: '6b5a4c3d-2e1f-4a0b-9c8d-7e6f5a4b3ca1',
  shipment: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7cb1',
  notification: '4e3d2c1b-0a9f-4e8d-b7c6-5a4b3c2d1ec1',
  review: '1f0e9d8c-7b6a-4594-a382-7160f5e4d3d1',
  report: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4ee1',
  dispute: 'd4c3b2a1-f0e9-4d8c-b7a6-958473625141',
}
const at = '2026-05-04T10:15:30.000Z'
const textMessage: Message = {
  id: ids.message,
  conversationId: ids.conversation,
  senderId: ids.buyer,
  kind: 'text',
  body: 'Is it still available?',
  clientId: 'c-42',
  createdAt: at,
  readAt: null,
}
const offer: Offer = {
  id: ids.offer,
  conversationId: ids.conversation,
  listingId: ids.listing,
  buyerId: ids.buyer,
  sellerId: ids.seller,
  amount: 450000,
  quantity: 1,
  currency: 'NGN',
  status: 'accepted',
  createdBy: ids.buyer,
  parentOfferId: null,
  expiresAt: '2026-05-05T10:15:30.000Z',
  respondedAt: at,
  createdAt: '2026-05-04T09:00:00.000Z',
}
const receipt: ReadReceipt = {
  conversationId: ids.conversation,
  userId: ids.seller,
  upToMessageId: ids.message,
  readAt: at,
}

/** Server → client events. Stored events carry `{seq, data}`; the others `{data}` (not in the resync), `session:ended` its bare data. */
export const ServerEvents = {
  'message:new': stored<Message>(Message, {
    summary: 'A message in one of the user’s conversations (to both participants, every device)',
    example: textMessage,
  }),
  'message:read': stored<ReadReceipt>(ReadReceipt, {
    summary: 'A participant read a conversation up to a message (to both participants)',
    example: receipt,
  }),
  'offer:updated': stored<Offer>(Offer, {
    summary: 'An offer the user is party to, with its new status',
    example: offer,
  }),
  'notification:new': stored<Notification>(Notification, {
    summary: 'A notification (price drops, want matches, order news, ...)',
    example: {
      id: ids.notification,
      type: 'price_drop',
      data: { listingId: ids.listing, oldPrice: 500000, newPrice: 450000, currency: 'NGN' },
      readAt: null,
      createdAt: at,
    },
  }),
  'order:status': stored<OrderStatusEvent>(OrderStatusEvent, {
    summary: 'An order moved on (to the buyer, and to each seller with their own shipments)',
    example: { orderId: ids.order, paymentStatus: 'paid', shipments: [{ id: ids.shipment, status: 'sent' }] },
  }),
  'unread:updated': stored<UnreadCounts>(UnreadCounts, {
    summary: 'The user’s unread counts changed (a message to them, a read on any device, notifications read)',
    example: { messages: 3, notifications: 1, conversations: 2 },
  }),
  typing: unstored<TypingEvent>(TypingEvent, {
    summary: 'The other participant is typing, or stopped (not stored)',
    example: { conversationId: ids.conversation, userId: ids.seller, isTyping: true },
  }),
  'admin:flag': unstored<Static<typeof AdminFlagEvent>>(AdminFlagEvent, {
    summary: 'Admins only: a review was flagged (not stored; the console reloads its queues after a reconnect)',
    example: { reviewId: ids.review, reason: 'Abusive language' },
  }),
  'admin:report': unstored<Static<typeof AdminReportEvent>>(AdminReportEvent, {
    summary: 'Admins only: a listing was reported (not stored)',
    example: { listingId: ids.listing, reportId: ids.report, reason: 'Counterfeit' },
  }),
  'admin:dispute': unstored<Static<typeof AdminDisputeEvent>>(AdminDisputeEvent, {
    summary: 'Admins only: a buyer opened a dispute (not stored)',
    example: { disputeId: ids.dispute, shipmentId: ids.shipment },
  }),
  'session:ended': bare<Static<typeof SessionEnded>>(SessionEnded, {
    summary: 'Sent just before the server ends the connection for good (logout, ban, password reset)',
    description: 'Do not reconnect with the same session. On `/v1/stream` the same is said by closing with code 4001.',
    example: { reason: 'banned', code: 'ACCOUNT_BANNED' },
  }),
} satisfies Record<string, ServerEventSpec>

export type ServerEventName = keyof typeof ServerEvents
/** The data type of a server event. */
export type ServerEventData<E extends ServerEventName> =
  (typeof ServerEvents)[E] extends ServerEventSpec<infer T> ? T : never
/** What a socket receives for a server event: `{seq, data}` when stored, `{data}` when not, or the bare data. */
export type ServerEventPayload<E extends ServerEventName> =
  (typeof ServerEvents)[E] extends ServerEventSpec<infer T, 'stored'>
    ? Delivered<T>
    : (typeof ServerEvents)[E] extends ServerEventSpec<infer T, 'unstored'>
      ? Unstored<T>
      : ServerEventData<E>
/** The server events a feed carries (all but `session:ended`), as `{event, seq, data}` frames. */
export type FeedEventName = {
  [E in ServerEventName]: (typeof ServerEvents)[E]['framing'] extends 'bare' ? never : E
}[ServerEventName]

/** One client → server request: its payload (validated by the gateway with exactly this schema) and its ack's `data`. */
export type ClientEventSpec<P extends TSchema = TSchema, R = unknown> = {
  payload: P
  reply: TSchema
  summary: string
  description?: string
  example: { payload: Static<P>; reply: R }
  readonly _reply?: R
}

const request = <P extends TSchema, R>(
  payload: P,
  reply: TSchema,
  spec: Omit<ClientEventSpec<P, R>, 'payload' | 'reply'>,
) => ({ payload, reply, ...spec }) as ClientEventSpec<P, R>

/** Client → server events (Socket.IO only), each acknowledged with `{ok:true,data}` or `{ok:false,code,message}`. */
export const ClientEvents = {
  'message:send': request<typeof MessageSendPayload, Message>(MessageSendPayload, Message, {
    summary: 'Send a message (a resend with the same clientId answers the original)',
    example: {
      payload: { conversationId: ids.conversation, body: 'Is it still available?', clientId: 'c-42' },
      reply: textMessage,
    },
  }),
  'conversation:read': request<typeof ConversationReadPayload, ConversationReadResult>(
    ConversationReadPayload,
    ConversationReadResult,
    {
      summary: 'Read receipt: I have read up to this message',
      example: {
        payload: { conversationId: ids.conversation, upToMessageId: ids.message },
        reply: { ...receipt, unreadCount: 0 },
      },
    },
  ),
  typing: request<typeof TypingPayload, Static<typeof TypingResult>>(TypingPayload, TypingResult, {
    summary: 'I am typing, or stopped (at most 5 a second; beyond that RATE_LIMITED)',
    example: { payload: { conversationId: ids.conversation, isTyping: true }, reply: { delivered: true } },
  }),
  'auth:refresh': request<typeof AuthRefreshPayload, Static<typeof AuthRefreshResult>>(
    AuthRefreshPayload,
    AuthRefreshResult,
    {
      summary: 'A fresh access token of the same session, so the connection outlives the old one’s expiry',
      example: { payload: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' }, reply: { expiresAt: at } },
    },
  ),
} satisfies Record<string, ClientEventSpec>

export type ClientEventName = keyof typeof ClientEvents
export type ClientEventPayload<E extends ClientEventName> = Static<(typeof ClientEvents)[E]['payload']>
/** The `data` of a client event's successful ack. */
export type ClientEventReply<E extends ClientEventName> =
  (typeof ClientEvents)[E] extends ClientEventSpec<TSchema, infer R> ? R : never

/** Server → client, as Socket.IO's typed events. */
export type ServerToClientEvents = { [E in ServerEventName]: (payload: ServerEventPayload<E>) => void }

/** Client → server, as Socket.IO's typed events. */
export type ClientToServerEvents = {
  [E in ClientEventName]: (payload: ClientEventPayload<E>, ack: (res: Ack<ClientEventReply<E>>) => void) => void
}

/** The names of every server → client and client → server event. */
export const SERVER_EVENT_NAMES = Object.keys(ServerEvents) as ServerEventName[]
export const CLIENT_EVENT_NAMES = Object.keys(ClientEvents) as ClientEventName[]

/**
 * Every schema other schemas of the protocol refer to by `$ref` (their `$id`): a validator
 * needs them as references (`TypeCompiler.Compile(schema, ProtocolReferences)`).
 */
export const ProtocolReferences: TSchema[] = [Offer, Message, ...notificationSchemas]

/** Close codes of `/v1/stream`. */
export const FeedClose = { sessionEnded: 4001, resync: 4002, tokenExpired: 4003, shutdown: 1012 } as const
