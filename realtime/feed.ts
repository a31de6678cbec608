import { randomUUID } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { WebSocket } from 'ws'
import { problems } from '../src/shared/index.js'
import { RealtimeErrors } from './realtime.errors.js'
import { authenticateLive, checkConnectionCap, Deadlines, sessionEndReason, type Expiring } from './auth.js'
import type { Connection, Hub } from './hub.js'
import { FeedClose, FeedQuery, type FeedFrame } from './protocol.js'

/** Sends a ping this often; a client that has not answered the previous one is cut. */
const HEARTBEAT_MS = 30_000
/** A client that cannot keep up (this much unsent) is cut; it reconnects with its lastSeq. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024

/** WebSocket close codes the feed uses (defined with the protocol). */
export { FeedClose }

/**
 * `GET /v1/stream?token=&lastSeq=`: the same server events as Socket.IO, as JSON text frames
 * `{"event","seq","data"}` for clients without a Socket.IO library. A refused handshake is
 * an ordinary problem+json answer (401 and friends) instead of the upgrade.
 */
export function mountFeed(app: FastifyInstance, hub: Hub): void {
  const handshakes = new WeakMap<FastifyRequest, { lastSeq?: number; expiresAt: number }>()
  // Every feed's access-token deadline on one timer, as the Socket.IO gateway's.
  const deadlines = new Deadlines()
  app.addHook('onClose', async () => deadlines.stop())

  app.route({
    method: 'GET',
    url: '/v1/stream',
    schema: {
      tags: ['live'],
      summary: 'Plain WebSocket feed of live events (upgrade only)',
      description:
        'Frames are `{"event","seq","data"}` (seq is null for events that are not stored: typing, and the admin events admins get). Close codes: 4001 session ended (do not reconnect), ' +
        '4002 resync (reconnect with lastSeq), 4003 access token expired (refresh it, reconnect with lastSeq), 1012 server restarting.',
      querystring: FeedQuery,
      response: { 426: Type.Ref('Problem'), ...problems(401, 403, 409, 429) },
    },
    preHandler: async (req) => {
      if (!req.ws) return
      const query = req.query as FeedQuery
      const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1]
      const { actor, lastSeq, expiresAt } = await authenticateLive(app, query.token ?? header, query.lastSeq)
      checkConnectionCap(app, hub.count(actor.id))
      req.actor = actor
      handshakes.set(req, { expiresAt, ...(lastSeq !== undefined ? { lastSeq } : {}) })
    },
    handler: async () => {
      throw RealtimeErrors.upgradeRequired()
    },
    wsHandler: (socket: WebSocket, req: FastifyRequest) => {
      const actor = req.actor!
      const log = app.log.child({ feedId: randomUUID(), userId: actor.id })
      const conn: Connection = {
        id: randomUUID(),
        userId: actor.id,
        sessionId: actor.sessionId,
        transport: 'feed',
        admin: actor.role === 'admin',
        deliver: (event, seq, data) => {
          if (socket.readyState !== socket.OPEN) return
          if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
            hub.detach(conn)
            socket.close(FeedClose.resync, 'too_far_behind')
            return
          }
          socket.send(JSON.stringify({ event, seq, data } satisfies FeedFrame))
        },
        end: (reason, final) => socket.close(final ? FeedClose.sessionEnded : FeedClose.resync, reason.slice(0, 120)),
      }
      let alive = true
      const heartbeat = setInterval(() => {
        if (!alive) return socket.terminate()
        alive = false
        socket.ping()
      }, HEARTBEAT_MS)
      heartbeat.unref()
      socket.on('pong', () => (alive = true))
      // The feed is one-way; anything a client sends is ignored (and bounded by maxPayload).
      socket.on('message', () => {})
      // The feed lives as long as its access token; then 4003 asks the client to refresh it
      // and reconnect with its lastSeq.
      const deadline: Expiring = {
        deadlineAt: Number.POSITIVE_INFINITY,
        deadlineSlot: -1,
        expire: () => {
          hub.detach(conn)
          socket.close(FeedClose.tokenExpired, 'token_expired')
        },
      }
      deadlines.set(deadline, handshakes.get(req)?.expiresAt ?? Number.POSITIVE_INFINITY)
      socket.on('close', () => {
        clearInterval(heartbeat)
        deadlines.clear(deadline)
        hub.detach(conn)
      })
      hub
        .attach(conn, handshakes.get(req)?.lastSeq)
        .catch((err: unknown) => log.warn({ err }, 'live stream failed to start'))
      sessionEndReason(app.db, actor).then(
        (reason) => {
          if (reason) hub.disconnect({ userId: actor.id, sessionId: actor.sessionId, reason })
        },
        () => {},
      )
    },
  })
}
