import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Socket } from 'socket.io'
import { sessionEndReasonOf } from '../src/auth/index.js'
import { HttpErrors, toProblem } from '../src/http/index.js'
import { Errors } from '../src/shared/index.js'
import {
  authenticateLive,
  checkConnectionCap,
  refreshLive,
  sessionEndReason,
  sessionEndedError,
  TokenDeadline,
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
 * `err.data = {code, status}`), rooms `user:<id>`, `session:<id>` and, for admins, `admins`; the connection's
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

  io.on('connection', (socket: OjaSocket) => {
    // socket.data.actor is the connection's actor; an auth:refresh replaces it.
    const { actor, lastSeq } = socket.data
    // The connection's logger, made when first used: a child logger per idle socket is memory
    // for nothing (thousands of connections rarely log).
    let childLog: FastifyBaseLogger | undefined
    const log = () => (childLog ??= app.log.child({ socketId: socket.id, userId: actor.id }))
    void socket.join([`user:${actor.id}`, `session:${actor.sessionId}`])
    if (actor.role === 'admin') void socket.join(ADMINS_ROOM)
    const conn: Connection = {
      id: socket.id,
      userId: actor.id,
      sessionId: actor.sessionId,
      transport: 'socket.io',
      admin: actor.role === 'admin',
      deliver: (event, seq, data) =>
        void (socket as unknown as UntypedEmit).emit(event, seq === null ? { data } : { seq, data }),
      end: (reason, final) => {
        if (!final) {
          socket.conn.close() // a transport close: the client reconnects (with its lastSeq)
          return
        }
        socket.emit('session:ended', { reason, code: sessionEndedError(reason).code })
        socket.disconnect(true)
      },
    }
    // At the access token's expiry the transport is closed: the client reconnects through
    // its auth callback with a fresh token and its lastSeq (nothing is lost), unless it
    // sent `auth:refresh` first.
    const deadline = new TokenDeadline(() => {
      log().debug('access token expired; connection closed')
      conn.end('token_expired', false)
    })
    deadline.set(socket.data.expiresAt)
    socket.on('disconnect', () => {
      deadline.clear()
      hub.detach(conn)
    })
    socket.on('auth:refresh', (payload: unknown, ack: unknown) => {
      const answer =
        typeof ack === 'function' ? (ack as (res: Ack<ClientEventReply<'auth:refresh'>>) => void) : () => {}
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
            deadline.set(fresh.expiresAt)
            answer({ ok: true, data: { expiresAt: new Date(fresh.expiresAt).toISOString() } })
          },
          (err: unknown) => {
            const { ack: refusal, internal } = ackError(err)
            if (internal) log().error({ err }, 'auth:refresh failed')
            answer(refusal)
          },
        )
    })
    hub.attach(conn, lastSeq).catch((err: unknown) => log().warn({ err }, 'live stream failed to start'))
    // A logout that committed while this handshake was in flight was broadcast before the
    // connection existed; now that it is registered, check once more.
    sessionEndReason(app.db, actor).then(
      (reason) => {
        if (reason) hub.disconnect({ userId: actor.id, sessionId: actor.sessionId, reason })
      },
      () => {},
    )

    let typingWindow = 0
    let typingCount = 0
    for (const [event, h] of Object.entries(handlers) as [keyof ClientToServerEvents, AnySocketHandler][]) {
      ;(socket as unknown as { on(event: string, fn: (...args: unknown[]) => void): void }).on(
        event,
        (...args: unknown[]) => {
          const last = args[args.length - 1]
          const ack = typeof last === 'function' ? (last as (res: unknown) => void) : () => {}
          const payload = typeof args[0] === 'function' ? undefined : args[0]
          if (event === 'typing') {
            const second = Math.floor(Date.now() / 1000)
            if (second !== typingWindow) [typingWindow, typingCount] = [second, 0]
            if (++typingCount > TYPING_PER_SECOND) return ack(ackError(Errors.rateLimited(1)).ack)
          }
          // Past capacity, refused at once (the REST routes answer 503 OVERLOADED alike).
          if (app.overloaded()) return ack(ackError(HttpErrors.overloaded()).ack)
          const ctx = { db: app.db, actor: socket.data.actor, log: log(), requestId: randomUUID() }
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
                if (internal) log().error({ err, event }, 'socket request failed')
                ack(answer)
                const ended = sessionEndReasonOf(err)
                if (ended) hub.disconnect({ userId: ctx.actor.id, sessionId: ctx.actor.sessionId, reason: ended })
              },
            )
        },
      )
    }
  })
}
