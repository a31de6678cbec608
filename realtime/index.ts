import { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance } from 'fastify'
import { Server, type ServerOptions } from 'socket.io'
import { notificationsService } from '../src/notifications/index.js'
import { connectRedisLink, type AdapterMode, type RedisLink } from './adapter.js'
import { latestSeq } from './auth.js'
import { FeedClose, mountFeed } from './feed.js'
import { mountGateway } from './gateway.js'
import { createChatHandlers } from './handlers.js'
import { Hub } from './hub.js'
import { Relay, type OjaIo } from './relay.js'

export type {
  ClientToServerEvents,
  ServerToClientEvents,
  FeedFrame,
  Ack,
  Delivered,
  HandshakeAuth,
  ConnectErrorData,
} from './protocol.js'

export type RealtimeOptions = {
  /** Redis for the adapter: default REDIS_URL; `null` keeps everything in this process (one node). */
  redisUrl?: string | null
  /** `auto` (default): sharded pub/sub on Redis 7+, the classic adapter before. */
  adapterMode?: AdapterMode | 'auto'
  /** Extra Socket.IO server options (ping timing, CORS, ...). */
  socket?: Partial<ServerOptions>
}

export type Realtime = { io: OjaIo; hub: Hub; relay: Relay; link: RedisLink | null }

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime
  }
}

/**
 * Browsers cannot set headers on a WebSocket, so the feed takes `?token=`; it is moved to the
 * Authorization header before routing, so that request logs never carry an access token.
 */
function moveTokenToHeader(req: IncomingMessage): IncomingMessage {
  const url = new URL(req.url ?? '/', 'http://feed')
  const token = url.searchParams.get('token')
  if (token === null) return req
  url.searchParams.delete('token')
  req.url = url.pathname + url.search
  if (!req.headers.authorization) req.headers.authorization = `Bearer ${token}`
  return req
}

const SOCKET_IO_PATH = '/socket.io/'
const FEED_PATH = '/v1/stream'

/**
 * Puts the live layer on a built (not yet ready) app: Socket.IO and the plain WebSocket feed
 * on Fastify's HTTP server, the Redis adapter between nodes, and the event spine's publisher.
 * Call before `listen` (src/server.ts, tests/helpers/nodes.ts).
 *
 * Upgrades: Socket.IO (engine.io) and @fastify/websocket would both answer the server's
 * `upgrade` event and break each other's handshakes. @fastify/websocket listens on a
 * private emitter instead, engine.io's own listener is removed, and one listener here
 * dispatches by path; anything else is refused with 404.
 */
export async function attachRealtime(app: FastifyInstance, opts: RealtimeOptions = {}): Promise<Realtime> {
  const log = app.log.child({ module: 'realtime' })
  const redisUrl = opts.redisUrl === undefined ? app.config.REDIS_URL : opts.redisUrl
  const link = redisUrl
    ? await connectRedisLink({
        url: redisUrl,
        channelPrefix: `${app.config.REDIS_PREFIX}socket.io`,
        mode: opts.adapterMode,
        log,
      })
    : null

  const feedUpgrades = new EventEmitter()
  await app.register(fastifyWebsocket, {
    options: { server: feedUpgrades as never, maxPayload: 4096 },
    preClose: async function closeFeeds(this: FastifyInstance) {
      for (const client of this.websocketServer.clients) client.close(FeedClose.shutdown, 'server restarting')
      feedUpgrades.removeAllListeners('upgrade')
    },
  })

  const server = app.server
  const ownUpgradeListeners = new Set(server.listeners('upgrade'))
  const io: OjaIo = new Server(server, {
    path: SOCKET_IO_PATH,
    serveClient: false,
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    connectTimeout: 10_000,
    ...(app.config.CORS_ORIGINS
      ? { cors: { origin: app.config.CORS_ORIGINS.split(',').map((s) => s.trim()), credentials: true } }
      : {}),
    ...(link ? { adapter: link.adapter } : {}),
    ...opts.socket,
  })
  for (const listener of server.listeners('upgrade')) {
    if (!ownUpgradeListeners.has(listener)) server.off('upgrade', listener as (...args: unknown[]) => void)
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path.startsWith(SOCKET_IO_PATH)) io.engine.handleUpgrade(req, socket, head)
    else if (path === FEED_PATH) feedUpgrades.emit('upgrade', moveTokenToHeader(req), socket, head)
    else {
      socket.on('error', () => {})
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    }
  })

  const hub = new Hub({
    fetch: async (userId, after, limit) => notificationsService.eventsAfter({ db: app.db }, userId, after, limit),
    latestSeq: (userId) => latestSeq(app.db, userId),
    log,
  })
  const relay = new Relay(io, hub, { clustered: link !== null, log })
  link?.onRecovered(() => {
    void hub.resyncAll()
    relay.requestResync()
  })

  mountGateway(
    app,
    io,
    hub,
    createChatHandlers({ chat: app.chat.service, typing: (userIds, data) => relay.ephemeral(userIds, 'typing', data) }),
  )
  mountFeed(app, hub)
  app.spine.setPublisher(relay.publisher)
  app.chat.setPresence(relay.presence)

  // Sockets go before the HTTP server closes: a transport close, so clients reconnect to
  // another node with their lastSeq. io.close() is not used: it would close the server too.
  // Nor is adapter.close(): its unsubscribes are pointless when the subscriber connection
  // closes next (Redis drops its subscriptions), and during a Redis outage they would sit in
  // the queue and be rejected, unhandled, at disconnect.
  app.addHook('preClose', async () => {
    io.engine.close()
  })
  app.addHook('onClose', async () => link?.close())

  if (link && !(await link.subscribed(3000)))
    log.warn('realtime: Redis subscriptions not confirmed at start; cross-node delivery begins when Redis answers')
  const realtime: Realtime = { io, hub, relay, link }
  app.decorate('realtime', realtime)
  return realtime
}
