import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import fastifyWebsocket from '@fastify/websocket'
import type { FastifyInstance, FastifyServerFactory, FastifyServerOptions } from 'fastify'
import pino from 'pino'
import { Server, type ServerOptions } from 'socket.io'
import { buildApp, type BuildOptions, type OjaApp } from '../src/app.js'
import type { Config } from '../src/config.js'
import type { Knex } from '../src/db/index.js'
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

/** What `buildNode` takes besides the config: the app's options (the live layer supplies its publisher, presence and server). */
export type NodeBuildOptions = Omit<BuildOptions, 'publisher' | 'presence' | 'serverFactory'>

/**
 * Builds one node: the HTTP application with its live layer (Socket.IO and the plain
 * WebSocket feed on the same HTTP server, the Redis adapter between nodes). The live layer
 * is assembled first (HTTP server, Socket.IO, hub, relay) so that the app is built with its
 * publisher and presence already in place; the gateway and the feed, which need the app's
 * services, are mounted on the built app before it is ready. Never listens (src/server.ts,
 * tests/helpers/nodes.ts do).
 *
 * Upgrades: Socket.IO (engine.io) and @fastify/websocket would both answer the server's
 * `upgrade` event and break each other's handshakes. @fastify/websocket listens on a
 * private emitter instead, engine.io's own listener is removed, and one listener here
 * dispatches by path; anything else is refused with 404.
 */
export async function buildNode(
  config: Config,
  options: NodeBuildOptions = {},
  opts: RealtimeOptions = {},
): Promise<{ app: OjaApp; realtime: Realtime }> {
  // One logger for the app and its live layer, which logs before the app exists (the Redis link).
  const logger =
    typeof options.logger === 'object'
      ? options.logger
      : pino({ level: options.logger === false ? 'silent' : options.logger === true ? 'info' : config.LOG_LEVEL })
  const log = logger.child({ module: 'realtime' })
  const redisUrl = opts.redisUrl === undefined ? config.REDIS_URL : opts.redisUrl
  const link = redisUrl
    ? await connectRedisLink({
        url: redisUrl,
        channelPrefix: `${config.REDIS_PREFIX}socket.io`,
        mode: opts.adapterMode,
        log,
      })
    : null

  // The HTTP server exists before the app: Socket.IO attaches to it now, Fastify's handler
  // is plugged in by the serverFactory (engine.io forwards every request that is not its own).
  let handleRequest: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server = createServer((req, res) => handleRequest!(req, res))
  const serverFactory: FastifyServerFactory = (handler, fastifyOptions) => {
    handleRequest = handler
    // What Fastify does to the servers it creates itself (it passes its options, defaults filled in).
    const timing = fastifyOptions as Pick<
      FastifyServerOptions,
      'keepAliveTimeout' | 'requestTimeout' | 'connectionTimeout' | 'maxRequestsPerSocket'
    >
    if (timing.keepAliveTimeout !== undefined) server.keepAliveTimeout = timing.keepAliveTimeout
    if (timing.requestTimeout !== undefined) server.requestTimeout = timing.requestTimeout
    server.setTimeout(timing.connectionTimeout ?? 0)
    if (timing.maxRequestsPerSocket) server.maxRequestsPerSocket = timing.maxRequestsPerSocket
    return server
  }

  const io: OjaIo = new Server(server, {
    path: SOCKET_IO_PATH,
    serveClient: false,
    destroyUpgrade: false,
    maxHttpBufferSize: 64 * 1024,
    connectTimeout: 10_000,
    ...(config.CORS_ORIGINS
      ? { cors: { origin: config.CORS_ORIGINS.split(',').map((s) => s.trim()), credentials: true } }
      : {}),
    ...(link ? { adapter: link.adapter } : {}),
    ...opts.socket,
  })
  server.removeAllListeners('upgrade')

  // The hub reads missed events from the app's database, which exists once the app is built
  // (the hub reads only for connections, which the gateway and the feed accept after that).
  const built: { db?: Knex } = {}
  const builtDb = () => built.db ?? Promise.reject(new Error('realtime: the app is not built yet'))
  const hub = new Hub({
    fetch: async (userId, after, limit) =>
      notificationsService.eventsAfter({ db: await builtDb() }, userId, after, limit),
    latestSeq: async (userId) => latestSeq(await builtDb(), userId),
    log,
  })
  const relay = new Relay(io, hub, { clustered: link !== null, log })
  link?.onRecovered(() => {
    void hub.resyncAll()
    relay.requestResync()
  })

  let app: OjaApp
  try {
    app = await buildApp(config, {
      ...options,
      logger,
      publisher: relay.publisher,
      presence: relay.presence,
      serverFactory,
    })
  } catch (err) {
    io.engine.close()
    link?.close()
    throw err
  }
  built.db = app.db

  const feedUpgrades = new EventEmitter()
  await app.register(fastifyWebsocket, {
    options: { server: feedUpgrades as never, maxPayload: 4096 },
    preClose: async function closeFeeds(this: FastifyInstance) {
      for (const client of this.websocketServer.clients) client.close(FeedClose.shutdown, 'server restarting')
      feedUpgrades.removeAllListeners('upgrade')
    },
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path.startsWith(SOCKET_IO_PATH)) io.engine.handleUpgrade(req, socket, head)
    else if (path === FEED_PATH) feedUpgrades.emit('upgrade', moveTokenToHeader(req), socket, head)
    else {
      socket.on('error', () => {})
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    }
  })

  mountGateway(
    app,
    io,
    hub,
    createChatHandlers({ chat: app.chat.service, typing: (userIds, data) => relay.ephemeral(userIds, 'typing', data) }),
  )
  mountFeed(app, hub)

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
  return { app, realtime }
}
