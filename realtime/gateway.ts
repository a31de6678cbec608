import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Socket } from 'socket.io'
import { sessionEndReasonOf } from '../src/auth/index.js'
import { HttpErrors, toProblem } from '../src/http/index.js'
import { Errors } from '../src/shared/index.js'
import {
  authenticateLive,
  checkConnectionCap,
  Deadlines,
  refreshLive,
  sessionEndReason,
  sessionEndedError,
  type Expiring,
} from './auth.js'
import { ackError, validate, type AnySocketHandler, type ChatHandlers } from './handlers.js'
import type { Connection, Hub } from './hub.js'
import {
  ClientEvents,
  type Ack,
  type ClientEventReply,
  type ClientToServerEvents,
  type ConnectErrorData,
  type ServerToClientEvents,
} from './protocol.js'
import type { InterServerEvents, OjaIo, SocketData } from './relay.js'

type OjaSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>
type UntypedEmit = { emit(event: string, ...args: unknown[]): boolean }

/** The room of admins' sockets (on every node); admin events reach them, and admins' feeds, through the hub. */
export const ADMINS_ROOM = 'admins'

/** Typing indicators a socket may send per second (beyond that they are dropped with RATE_LIMITED). */
const TYPING_PER_SECOND = 5

/**
 * The Socket.IO side: handshake authentication (same rules as REST, `connect_error` with
 * `err.data = {code, status}`), the room `admins` for admins' sockets; the connection's
 * ordered event stream, and the chat's request events with `{ok, data}` acks.
 */
export function mountGateway(app: FastifyInstance, io: OjaIo, hub: Hub, handlers: ChatHandlers): void {
  io.use((socket, next) => {
    const auth: Record<string, unknown> = socket.handshake.auth ?? {}
    authenticateLive(app, auth.token, auth.lastSeq)
      .then((live) => (checkConnectionCap(app, hub.count(live.actor.id)), live))
      .then(
        ({ actor, lastSeq, expiresAt }) => {
          socket.data = { actor, expiresAt, ...(lastSeq !== undefined ? { lastSeq } : {}) }
          // The access token has served: the socket does not keep it (a few hundred bytes per
          // socket, and a bearer credential held for the connection's life).
          socket.handshake.auth = AUTH_READ
          next()
        },
        (err: unknown) => {
          const { problem, internal } = toProblem(err)
          if (internal) app.log.error({ err }, 'socket handshake failed')
          const data: ConnectErrorData = { code: problem.code, status: problem.status }
          next(Object.assign(new Error(problem.detail), { data }))
        },
      )
  })

  const deadlines = new Deadlines()
  const connections = new WeakMap<OjaSocket, SocketConnection>()
  const deps: GatewayDeps = { app, hub, deadlines }

  // One listener for every client event, and one for the disconnect, shared by all sockets
  // (`this` is the socket): no closures, contexts or listener entries per event per socket.
  function onClientEvent(this: OjaSocket, event: string, ...args: unknown[]): void {
    const conn = connections.get(this)
    if (!conn) return
    const last = args[args.length - 1]
    const ack = typeof last === 'function' ? (last as (res: unknown) => void) : ignore
    const payload = typeof args[0] === 'function' ? undefined : args[0]
    if (event === 'auth:refresh') return refresh(deps, conn, payload, ack)
    if (!Object.hasOwn(handlers, event)) return // not an event of the protocol: ignored, as before
    request(deps, conn, event as keyof ChatHandlers, handlers[event as keyof ChatHandlers], payload, ack)
  }
  function onDisconnect(this: OjaSocket): void {
    const conn = connections.get(this)
    if (!conn) return
    deadlines.clear(conn)
    hub.detach(conn)
  }
  app.addHook('onClose', async () => deadlines.stop())

  io.on('connection', (socket: OjaSocket) => {
    // socket.data.actor is the connection's actor; an auth:refresh replaces it.
    const { actor, lastSeq } = socket.data
    // Admins join `admins` (admin events, and io.in('admins') for tooling). Deliveries do not
    // use rooms (the hub hands them to its connections), so there are no per-user rooms.
    if (actor.role === 'admin') void socket.join(ADMINS_ROOM)
    const conn = new SocketConnection(socket, actor.role === 'admin', app)
    connections.set(socket, conn)
    // At the access token's expiry the transport is closed: the client reconnects through
    // its auth callback with a fresh token and its lastSeq (nothing is lost), unless it
    // sent `auth:refresh` first.
    deadlines.set(conn, socket.data.expiresAt)
    socket.on('disconnect', onDisconnect)
    socket.onAny(onClientEvent)
    hub.attach(conn, lastSeq).catch((err: unknown) => conn.log().warn({ err }, 'live stream failed to start'))
    // A logout that committed while this handshake was in flight was broadcast before the
    // connection existed; now that it is registered, check once more.
    sessionEndReason(app.db, actor).then(
      (reason) => {
        if (reason) hub.disconnect({ userId: actor.id, sessionId: actor.sessionId, reason })
      },
      () => {},
    )
  })
}

/** What a socket's `handshake.auth` becomes once read (the token is not kept). */
const AUTH_READ: Record<string, never> = Object.freeze({})

type GatewayDeps = { app: FastifyInstance; hub: Hub; deadlines: Deadlines }

const ignore = () => {}

/**
 * A Socket.IO connection as the hub sees it. Its state is fields, its behaviour methods (no
 * closures per socket): at thousands of sockets a node holds one of these per socket and
 * nothing else of Oja's but its stream (issue 16).
 */
class SocketConnection implements Connection, Expiring {
  deadlineAt = Number.POSITIVE_INFINITY
  deadlineSlot = -1
  /** Typing indicators in the current second (TYPING_PER_SECOND). */
  typingWindow = 0
  typingCount = 0
  private childLog: FastifyBaseLogger | undefined

  constructor(
    readonly socket: OjaSocket,
    public admin: boolean,
    private readonly app: FastifyInstance,
  ) {}

  get id(): string {
    return this.socket.id
  }
  get userId(): string {
    return this.socket.data.actor.id
  }
  get sessionId(): string {
    return this.socket.data.actor.sessionId
  }
  get transport(): 'socket.io' {
    return 'socket.io'
  }

  /** The connection's logger, made when first used: a child logger per idle socket is memory for nothing. */
  log(): FastifyBaseLogger {
    return (this.childLog ??= this.app.log.child({ socketId: this.socket.id, userId: this.userId }))
  }

  deliver(event: string, seq: number | null, data: unknown): void {
    ;(this.socket as unknown as UntypedEmit).emit(event, seq === null ? { data } : { seq, data })
  }

  end(reason: string, final: boolean): void {
    if (!final) {
      this.socket.conn.close() // a transport close: the client reconnects (with its lastSeq)
      return
    }
    this.socket.emit('session:ended', { reason, code: sessionEndedError(reason).code })
    this.socket.disconnect(true)
  }

  /** The access token expired. */
  expire(): void {
    this.log().debug('access token expired; connection closed')
    this.end('token_expired', false)
  }
}

/** `auth:refresh`: a fresh access token of the same session moves the deadline. */
function refresh(deps: GatewayDeps, conn: SocketConnection, payload: unknown, ack: (res: unknown) => void): void {
  const { app, hub, deadlines } = deps
  const socket = conn.socket
  const answer = ack as (res: Ack<ClientEventReply<'auth:refresh'>>) => void
  Promise.resolve()
    .then(() => refreshLive(app, socket.data.actor, validate(ClientEvents['auth:refresh'].payload, payload).token))
    .then(
      (fresh) => {
        socket.data.actor = fresh.actor
        // The role is read again with the token: a demoted admin stops getting admin events.
        const admin = fresh.actor.role === 'admin'
        if (admin !== conn.admin) {
          hub.setAdmin(conn, admin)
          void (admin ? socket.join(ADMINS_ROOM) : socket.leave(ADMINS_ROOM))
        }
        socket.data.expiresAt = fresh.expiresAt
        if (socket.connected) deadlines.set(conn, fresh.expiresAt)
        answer({ ok: true, data: { expiresAt: new Date(fresh.expiresAt).toISOString() } })
      },
      (err: unknown) => {
        const { ack: refusal, internal } = ackError(err)
        if (internal) conn.log().error({ err }, 'auth:refresh failed')
        answer(refusal)
      },
    )
}

/** A chat request event: rate (typing), capacity, session, then the handler; answered by its ack. */
function request(
  deps: GatewayDeps,
  conn: SocketConnection,
  event: keyof ChatHandlers,
  h: AnySocketHandler,
  payload: unknown,
  ack: (res: unknown) => void,
): void {
  const { app, hub } = deps
  if (event === 'typing') {
    const second = Math.floor(Date.now() / 1000)
    if (second !== conn.typingWindow) [conn.typingWindow, conn.typingCount] = [second, 0]
    if (++conn.typingCount > TYPING_PER_SECOND) return ack(ackError(Errors.rateLimited(1)).ack)
  }
  // Past capacity, refused at once (the REST routes answer 503 OVERLOADED alike).
  if (app.overloaded()) return ack(ackError(HttpErrors.overloaded()).ack)
  const ctx = { db: app.db, actor: conn.socket.data.actor, log: conn.log(), requestId: randomUUID() }
  // Every request is checked as a REST request is (one primary-key lookup, or the
  // handler's own set-based check in its transaction): a ban or a logout whose
  // disconnect has not reached this node yet refuses it all the same.
  const live = h.checksSession
    ? Promise.resolve(null)
    : sessionEndReason(app.db, ctx.actor).then((reason) => {
        if (reason) throw sessionEndedError(reason)
        return null
      })
  live
    .then(() => h.run(ctx, validate(h.schema, payload) as never))
    .then(
      (data) => ack({ ok: true, data }),
      (err: unknown) => {
        const { ack: answer, internal } = ackError(err)
        if (internal) conn.log().error({ err, event }, 'socket request failed')
        ack(answer)
        const ended = sessionEndReasonOf(err)
        if (ended) hub.disconnect({ userId: ctx.actor.id, sessionId: ctx.actor.sessionId, reason: ended })
      },
    )
}
