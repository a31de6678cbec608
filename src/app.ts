import cors from '@fastify/cors'
import helmet from '@fastify/helmet'
import rateLimit from '@fastify/rate-limit'
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify'
import { Redis } from 'ioredis'
import { randomUUID } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { Config } from './config.js'
import { createDb, createReadPool, isEmbedded, migrateLatest, type Knex, type ReadPool } from './db/index.js'
import { seedCategories } from '../seeds/categories.js'
import { seedDemo } from '../seeds/demo.js'
import { authPlugin } from './auth/index.js'
import {
  admissionPlugin,
  asyncApiPlugin,
  docsPlugin,
  errorsPlugin,
  etagPlugin,
  fallbackRateLimitStore,
  registerJsonParser,
  requestLogSerializer,
  sendProblem,
} from './http/index.js'
import { EventSpine, noopPublisher, purgeOldEventsJob, type Publisher } from './events/index.js'
import { MailSender } from './mail/index.js'
import { Problem, useCursorSecret } from './shared/index.js'
import {
  LoginLimiter,
  accountsRoutes,
  activeListingsOf,
  avatarFeature,
  createAccountsService,
  lifecycleRoutes,
  passwords,
  purgeUserTokensJob,
  ratingOf,
  type AccountsService,
  type ProfileExtras,
} from './accounts/index.js'
import { idempotencyPlugin, purgeIdempotencyKeysJob } from './idempotency/index.js'
import { notificationsFeature } from './notifications/index.js'
import { categoriesFeature } from './categories/index.js'
import { Sweeper } from './jobs/index.js'
import { imagesFeature } from './images/index.js'
import { listingsFeature } from './listings/index.js'
import { wantsFeature } from './wants/index.js'
import { wishlistsFeature } from './wishlists/index.js'
import { paymentsFeature } from './payments/index.js'
import { createLedger, ledgerFeature, type Ledger } from './ledger/index.js'
import { payoutsFeature } from './payouts/index.js'
import { cartFeature } from './cart/index.js'
import { couponsFeature } from './coupons/index.js'
import { checkoutFeature } from './checkout/index.js'
import { ordersFeature } from './orders/index.js'
import { disputesFeature } from './disputes/index.js'
import { chatFeature, type Presence } from './chat/index.js'
import { digestFeature } from './digest/index.js'
import { emitUnread, pushFeature, type PushPlatform, type PushSender } from './push/index.js'
import { trustFeature } from './trust/index.js'
import { consolePlugin } from './console/index.js'

export type BuildOptions = {
  /** An open database to use (tests share one); otherwise the app opens and closes its own. */
  db?: Knex
  /** A Redis client to use; otherwise one is opened when REDIS_URL is set. */
  redis?: Redis | null
  /** Delivers committed events live (the realtime layer's relay); default: nobody is told, clients resync over REST. */
  publisher?: Publisher
  /** Who has a live connection (the realtime layer's relay); default: nobody is online. */
  presence?: Presence
  /** Push senders per platform (tests record); default: the providers the environment configures. */
  pushSenders?: Partial<Record<PushPlatform, PushSender>>
  /** Creates the HTTP server (the realtime layer creates it first, to put Socket.IO on it). */
  serverFactory?: FastifyServerFactory
  logger?: FastifyBaseLogger | boolean
  /** Start the background loops (mail, push, sweeper); default true. */
  background?: boolean
}

export type Services = {
  accounts: AccountsService
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    redis: Redis | null
    /** Plain pg connections for the hottest reads (PostgreSQL only). */
    reads: ReadPool | null
    spine: EventSpine
    ledger: Ledger
    mail: MailSender
    sweeper: Sweeper
    services: Services
  }
}

/** A client's request id worth logging: 1–128 visible characters of a safe set (UUIDs, ULIDs, trace ids). */
const CLIENT_REQUEST_ID = /^[\w.:@/+=-]{1,128}$/

export type OjaApp = FastifyInstance

/** Builds the whole HTTP application; never listens (src/server.ts does). */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<OjaApp> {
  // Request logs never carry a secret query parameter (`?token=`): the request serializer redacts
  // them, on a logger we are given (its own serializers would win over Fastify's) as on our own.
  const serializers = { req: requestLogSerializer }
  const app = Fastify({
    ...(typeof options.logger === 'object'
      ? { loggerInstance: options.logger.child({}, { serializers }) }
      : options.logger === false
        ? { logger: false }
        : { logger: { level: options.logger === true ? 'info' : config.LOG_LEVEL, serializers } }),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A hop count trusts that many proxies nearest to us (proxy-addr's hop index, 0 = the socket's peer).
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(config.trustProxy)
        : config.trustProxy,
    // The server's own id keys logs and the append-only audit log; a client's X-Request-Id is only
    // logged beside it, and only when well-formed (it could otherwise be anything, any length).
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // A slow client (slowloris) cannot hold a socket: the whole request must arrive in time.
    connectionTimeout: config.REQUEST_TIMEOUT_MS * 2,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    frameworkErrors: sendProblem,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>()
  void TypeBoxValidatorCompiler // the default Ajv compiler is used so that formats and defaults behave as documented

  const ownsDb = !options.db
  const db = options.db ?? (await createDb(config))
  const ownsRedis = options.redis === undefined && !!config.REDIS_URL
  const redis =
    options.redis !== undefined
      ? options.redis
      : config.REDIS_URL
        ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false })
        : null
  redis?.on('error', (err) => app.log.warn({ err: err.message }, 'redis error'))

  useCursorSecret(config.cursorSecret)
  app.decorate('db', db)
  app.decorate('config', config)
  app.decorate('redis', redis)
  const reads = createReadPool(config)
  app.decorate('reads', reads)
  const spine = new EventSpine(options.publisher ?? noopPublisher)
  app.decorate('spine', spine)
  // Seller money's ledger: stateless functions over its tables, used by payments, orders and the money features.
  app.decorate(
    'ledger',
    createLedger({
      spine,
      rates: { feeBps: config.PLATFORM_FEE_BPS, vatBps: config.VAT_BPS },
      escrowReleaseDays: config.ESCROW_RELEASE_DAYS,
    }),
  )
  const mail = new MailSender(db, app.log, {
    smtpUrl: config.SMTP_URL,
    from: config.MAIL_FROM,
    pollMs: config.MAIL_POLL_INTERVAL_MS,
  })
  app.decorate('mail', mail)
  const sweeper = new Sweeper(db, app.log, config.SWEEPER_INTERVAL_MS)
  app.decorate('sweeper', sweeper)
  // Housekeeping of the shared tables; each feature registers its own jobs when it is registered below.
  for (const job of [purgeOldEventsJob, purgeIdempotencyKeysJob, purgeUserTokensJob]) sweeper.register(job)

  // While closing, answers carry Connection: close so keep-alive sockets end as their last
  // in-flight request finishes (Fastify only closes the sockets idle at the moment close starts).
  let closing = false
  app.addHook('preClose', async () => {
    closing = true
  })
  app.addHook('onRequest', async (req) => {
    const clientId = req.headers['x-request-id']
    if (typeof clientId === 'string' && CLIENT_REQUEST_ID.test(clientId))
      req.log = req.log.child({ clientRequestId: clientId })
  })
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id)
    if (closing) reply.header('connection', 'close')
    // A signed-in user's answers are theirs alone: no shared or local cache keeps them.
    if (req.actor && !reply.hasHeader('cache-control')) reply.header('cache-control', 'private, no-store')
  })
  app.addHook('onClose', async () => {
    await Promise.all([
      mail.stop(),
      sweeper.stop(),
      app.hasDecorator('push') ? app.push.worker.stop() : undefined,
      app.hasDecorator('priceDrops') ? app.priceDrops.stop() : undefined,
    ])
    if (ownsRedis) redis?.disconnect()
    await reads?.end()
    if (ownsDb) await db.destroy()
  })

  // Whatever fails while assembling, the connections this app opened are closed again.
  try {
    if (ownsDb && config.MIGRATE_ON_START) await migrateLatest(db)
    app.addSchema(Problem)
    registerJsonParser(app)
    await app.register(errorsPlugin)
    await app.register(helmet, { contentSecurityPolicy: false })
    await app.register(cors, {
      origin: config.CORS_ORIGINS ? config.CORS_ORIGINS.split(',').map((s) => s.trim()) : false,
      credentials: true,
    })
    await app.register(rateLimit, {
      global: false,
      // Counted in Redis, or in this node's memory while Redis cannot be reached (never skipped).
      store: fallbackRateLimitStore(redis, `${config.REDIS_PREFIX}rl:`),
      skipOnError: true,
      errorResponseBuilder: (_req, ctx) => {
        const retry = Math.max(1, Math.ceil(ctx.ttl / 1000))
        return Object.assign(new Error(`Too many requests; try again in ${retry} s`), {
          statusCode: 429,
          code: 'RATE_LIMITED',
          retryAfter: retry,
        })
      },
    })
    // Past capacity, refuse before the token check (itself a query).
    await app.register(admissionPlugin, {
      db,
      maxWaiting: config.ADMISSION_DB_QUEUE,
      // Embedded PGlite runs every query on this event loop: its lag is the database working.
      maxEventLoopDelayMs: isEmbedded(db) ? 0 : config.ADMISSION_EVENT_LOOP_DELAY_MS,
    })
    await app.register(authPlugin, { secret: config.jwtSecret, accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS, db })
    // The public reads: ETag, If-None-Match → 304, and how long a cache may keep them.
    const publicReads = {
      'GET /v1/listings/:id': { maxAge: 0 },
      'GET /v1/categories': { maxAge: 300, anonymous: true },
      'GET /v1/users/:id': { maxAge: 0 },
      'GET /v1/users/:id/reviews': { maxAge: 0 },
      'GET /v1/listings/:id/reviews': { maxAge: 0 },
    }
    await app.register(docsPlugin, { conditionalReads: Object.keys(publicReads) })
    await app.register(asyncApiPlugin)
    // Idempotency-Key for every route whose config asks for it (the features' own scopes may register it too: it runs once).
    await app.register(idempotencyPlugin, { db })
    await app.register(etagPlugin, { routes: publicReads })

    passwords.configure({
      concurrency: config.PASSWORD_HASH_CONCURRENCY,
      queue: config.PASSWORD_HASH_QUEUE,
      memoryKiB: config.PASSWORD_HASH_MEMORY_KIB,
      passes: config.PASSWORD_HASH_PASSES,
    })
    const profileExtras: ProfileExtras = async (db, userId) => {
      const [rating, activeListings] = await Promise.all([ratingOf(db, userId), activeListingsOf(db, userId)])
      return { rating, activeListings }
    }
    const services: Services = {
      accounts: createAccountsService({
        config,
        spine,
        signAccess: (claims) => app.jwt.sign(claims),
        loginLimiter: new LoginLimiter({ scale: config.RATE_LIMIT_SCALE, redis, prefix: config.REDIS_PREFIX }),
        mailQueued: () => mail.kick(),
        profileExtras,
      }),
    }
    app.decorate('services', services)

    app.get(
      '/health',
      {
        schema: {
          operationId: 'getHealth',
          tags: ['system'],
          summary: 'Liveness',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    )
    app.get(
      '/ready',
      {
        schema: {
          operationId: 'getReadiness',
          tags: ['system'],
          summary: 'Readiness: the database (and Redis, where configured) answer',
          response: {
            200: Type.Object({ status: Type.String(), database: Type.String(), redis: Type.String() }),
            503: Type.Object({ status: Type.String(), database: Type.String(), redis: Type.String() }),
          },
        },
      },
      async (_req, reply) => {
        const withTimeout = <T>(p: Promise<T>) =>
          Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), 2000).unref())])
        const database = await withTimeout(db.raw('select 1')).then(
          () => 'ok',
          () => 'down',
        )
        const redisState = redis
          ? await withTimeout(redis.ping()).then(
              () => 'ok',
              () => 'down',
            )
          : 'not configured'
        const ok = database === 'ok' && redisState !== 'down'
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', database, redis: redisState })
      },
    )

    // Features, in dependency order.
    await app.register(accountsRoutes, { accounts: services.accounts, rateLimitScale: config.RATE_LIMIT_SCALE })
    await app.register(lifecycleRoutes, { rateLimitScale: config.RATE_LIMIT_SCALE })
    // Reading notifications moves the unread counts: `unread:updated` in the same transaction.
    await app.register(notificationsFeature, { onRead: (tx, userId) => emitUnread(spine, tx, [userId]) })
    await app.register(categoriesFeature)
    await app.register(imagesFeature)
    await app.register(avatarFeature) // after images: the avatar files live in app.blobs
    await app.register(listingsFeature)
    await app.register(wantsFeature)
    await app.register(wishlistsFeature)
    await app.register(paymentsFeature) // before checkout and orders, which use app.payments
    await app.register(cartFeature)
    await app.register(couponsFeature)
    await app.register(checkoutFeature)
    await app.register(ordersFeature)
    await app.register(ledgerFeature)
    await app.register(disputesFeature)
    await app.register(payoutsFeature) // after payments (gateway, webhooks) and the ledger
    await app.register(chatFeature, options.presence ? { presence: options.presence } : {})
    await app.register(digestFeature) // after chat: its presence says who is away
    await app.register(pushFeature, {
      ...(options.presence ? { presence: options.presence } : {}),
      ...(options.pushSenders ? { senders: options.pushSenders } : {}),
    })
    await app.register(trustFeature, {
      removeListing: (ctx, id, opts) => app.catalogue.listings.remove(ctx, id, opts),
    })
    await app.register(consolePlugin) // GET /admin: the admin console's static files, on the public API

    // Reference data always; demo data on an empty database when asked (after features, whose seeders it runs).
    if (ownsDb) {
      await seedCategories(db)
      if (config.seedDemo) await seedDemo(db, app.log)
    }

    if (options.background !== false) {
      app.addHook('onReady', async () => {
        mail.start()
        app.push.worker.start()
        app.priceDrops.start()
        sweeper.start()
      })
    }
  } catch (err) {
    await reads?.end()
    if (ownsRedis) redis?.disconnect()
    if (ownsDb) await db.destroy()
    throw err
  }
  return app
}
