import { isIP } from 'node:net'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/** The environment the server reads, as one schema (README, Configuration). */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
  }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '127.0.0.1' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  PGLITE_DIR: Type.String({ minLength: 1, default: './data/pgdata' }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  /** Requests that may wait for a database connection before new ones are refused (503/ack OVERLOADED); 0: off. */
  ADMISSION_DB_QUEUE: Type.Integer({ minimum: 0, maximum: 100_000, default: 50 }),
  /** An event loop later than this (ms, worst of a 250 ms window) refuses new requests like a full queue; 0: off. */
  ADMISSION_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 150 }),
  /** Chat text sends waiting for their group commit on one node before new ones are refused (OVERLOADED); 0: no bound. */
  CHAT_SEND_QUEUE: Type.Integer({ minimum: 0, maximum: 100_000, default: 150 }),
  /** A chat send that waited longer than this (ms) for its group commit is refused OVERLOADED, not stored late; 0: no bound. */
  CHAT_SEND_MAX_WAIT_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: 200 }),
  DATABASE_READ_POOL_MAX: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_PREFIX: Type.String({ default: 'oja:' }),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  /** Signs list cursors; default: derived from JWT_SECRET. Every node must share it. */
  CURSOR_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, default: 900 }),
  REFRESH_TOKEN_TTL_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  /** Password hashes (argon2) run at once per process; the rest wait or are refused (see passwords.ts). */
  PASSWORD_HASH_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
  /** Password checks that may wait for a hashing slot; past this, 503 PASSWORD_CHECK_BUSY. */
  PASSWORD_HASH_QUEUE: Type.Integer({ minimum: 0, maximum: 10_000, default: 100 }),
  /**
   * argon2id cost of new password hashes: memory (KiB) and passes. The default is OWASP's
   * 19 MiB × 2; production refuses less than one of OWASP's equivalent settings (m ≥ 7 MiB and
   * m × t ≥ 35 MiB). The test suite lowers it (as Rails' min_cost does), one hash costing 0.7 ms
   * instead of 25; a stored hash carries its own cost, so verifying is unaffected.
   */
  PASSWORD_HASH_MEMORY_KIB: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 19_456 }),
  PASSWORD_HASH_PASSES: Type.Integer({ minimum: 1, maximum: 10, default: 2 }),
  /**
   * A rotated refresh token presented again this many seconds after its rotation answers the
   * session's current pair (a retry after a lost answer) instead of revoking the family; 0: never.
   */
  REFRESH_REUSE_GRACE_SECONDS: Type.Integer({ minimum: 0, maximum: 3600, default: 30 }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  PAYSTACK_SECRET_KEY: Type.Optional(Type.String({ minLength: 1 })),
  PAYSTACK_BASE_URL: Type.String({ pattern: '^https?://', default: 'https://api.paystack.co' }),
  PAYSTACK_WEBHOOK_IPS: Type.Optional(Type.String()),
  PAYSTACK_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10000 }),
  /** How often the reconciliation compares Oja with Paystack's transaction and refund lists. */
  PAYSTACK_RECONCILE_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 900_000 }),
  /** How far back each reconciliation looks (Paystack retries for 72 h; a day more). */
  PAYSTACK_RECONCILE_WINDOW_HOURS: Type.Integer({ minimum: 1, maximum: 744, default: 96 }),
  BLOB_READ_WRITE_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  /** A second, private Vercel Blob store for chat photos (a store is public or private as a whole). */
  BLOB_PRIVATE_READ_WRITE_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  VERCEL_BLOB_API_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  UPLOADS_DIR: Type.String({ minLength: 1, default: './data/uploads' }),
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  MAIL_FROM: Type.String({ minLength: 3, default: 'Oja <no-reply@oja.local>' }),
  RESERVATION_TTL_SECONDS: Type.Integer({ minimum: 10, default: 900 }),
  /** The platform's fee on each order line, in basis points. */
  PLATFORM_FEE_BPS: Type.Integer({ minimum: 0, maximum: 10_000, default: 500 }),
  /** VAT on the platform's fee, in basis points (Nigeria: 7.5 %). */
  VAT_BPS: Type.Integer({ minimum: 0, maximum: 10_000, default: 750 }),
  /** Days after `delivered` before a shipment's money is released without the buyer (a decimal). */
  ESCROW_RELEASE_DAYS: Type.Number({ minimum: 0, default: 3 }),
  /** How often the ledger is checked against itself and Paystack's lists (admins hear of differences). */
  LEDGER_CHECK_INTERVAL_HOURS: Type.Number({ minimum: 0.001, default: 24 }),
  /** The smallest payout, in kobo. */
  PAYOUT_MIN_AMOUNT: Type.Integer({ minimum: 1, default: 100_000 }),
  RATE_LIMIT_SCALE: Type.Number({ minimum: 0, default: 1 }),
  MIGRATE_ON_START: Type.Boolean({ default: true }),
  SEED_DEMO: Type.Optional(Type.Boolean()),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  CORS_ORIGINS: Type.Optional(Type.String()),
  SWEEPER_INTERVAL_MS: Type.Integer({ minimum: 50, default: 5000 }),
  MAIL_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, default: 2000 }),
  TRUST_PROXY: Type.String({ default: 'false' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  LIVE_MAX_CONNECTIONS_PER_USER: Type.Integer({ minimum: 1, maximum: 10_000, default: 20 }),
  /** Read receipts per user per 10 s (REST and socket), times RATE_LIMIT_SCALE. */
  CHAT_READ_LIMIT: Type.Integer({ minimum: 1, default: 60 }),
  /** Failed coupon lookups (unknown codes) per user and per IP, per hour, times RATE_LIMIT_SCALE. */
  COUPON_FAILURE_LIMIT_PER_USER: Type.Integer({ minimum: 1, default: 10 }),
  COUPON_FAILURE_LIMIT_PER_IP: Type.Integer({ minimum: 1, default: 30 }),
  /** Unpaid checkouts with live reservations a buyer may hold at once; 0 turns the cap off. */
  CHECKOUT_MAX_UNPAID: Type.Integer({ minimum: 0, default: 3 }),
  /** Across several unpaid checkouts, the share (%) of a listing's stock a buyer may hold; 0 turns it off. */
  RESERVATION_MAX_SHARE_PERCENT: Type.Integer({ minimum: 0, maximum: 100, default: 50 }),
  /** A wishlister gets at most one price-drop alert per listing in this many hours. */
  PRICE_DROP_ALERT_HOURS: Type.Integer({ minimum: 0, default: 24 }),
  /** Wishlisters a price-drop worker alerts per batch (one transaction each). */
  PRICE_DROP_BATCH: Type.Integer({ minimum: 1, maximum: 10_000, default: 2000 }),
  /** How often each node's price-drop worker looks for drops to fan out (besides the kick after each PATCH). */
  PRICE_DROP_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, default: 1000 }),
  /** Hours between recounts of listing_words' counts (the typo correction's tie-breaker); 0: never. */
  LISTING_WORDS_RECOUNT_HOURS: Type.Integer({ minimum: 0, maximum: 8760, default: 168 }),
  /**
   * Chat messages still unread this many minutes after the first of them arrived, with the
   * user away, go out as one mail (a decimal: `0.02` ≈ 1 s, for tests).
   */
  UNREAD_DIGEST_MINUTES: Type.Number({ minimum: 0.001, maximum: 10_080, default: 30 }),
  /** Where mailed links point (the web app or a universal-link domain); default PUBLIC_URL. */
  APP_LINK_BASE: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * Comma list of allowed checkout `callbackUrl` prefixes, custom app schemes included
   * (`ojaapp://`, `https://app.example.com`); unset: any http(s) URL.
   */
  PAYMENT_CALLBACK_ORIGINS: Type.Optional(Type.String()),
  /** Web Push (VAPID) keys, base64url, and the subject (`mailto:` or `https:`); unset: web push goes to the log. */
  VAPID_PUBLIC_KEY: Type.Optional(Type.String({ minLength: 1 })),
  VAPID_PRIVATE_KEY: Type.Optional(Type.String({ minLength: 1 })),
  VAPID_SUBJECT: Type.Optional(Type.String({ pattern: '^(mailto:|https?://)' })),
  /** Firebase Cloud Messaging HTTP v1: the service account's JSON, or a path to it; unset: FCM goes to the log. */
  FCM_SERVICE_ACCOUNT: Type.Optional(Type.String({ minLength: 1 })),
  FCM_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  GOOGLE_TOKEN_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Expo push: an access token when the project requires one, and the API's URL (default Expo's). */
  EXPO_ACCESS_TOKEN: Type.Optional(Type.String({ minLength: 1 })),
  EXPO_PUSH_URL: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** Outbox rows a push worker claims per pass. */
  PUSH_WORKER_BATCH: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  /** How often each node's push worker looks for due pushes (besides the kick after each commit). */
  PUSH_POLL_INTERVAL_MS: Type.Integer({ minimum: 50, default: 2000 }),
})

export type Env = Static<typeof EnvSchema>

/** The resolved configuration: the environment plus what follows from it. */
export type Config = Env & {
  jwtSecret: string
  /** The secret list cursors are signed with (CURSOR_SECRET, else the JWT secret). */
  cursorSecret: string
  publicUrl: string
  /** Where mailed links point: APP_LINK_BASE, else publicUrl (no trailing slash). */
  appLinkBase: string
  /** The allowed checkout callbackUrl prefixes (PAYMENT_CALLBACK_ORIGINS); undefined: any http(s) URL. */
  paymentCallbackOrigins: string[] | undefined
  /** Whether demo data is loaded on an empty database. */
  seedDemo: boolean
  /** Which X-Forwarded-For entries to believe: none, the last N hops, or those added by these proxies. */
  trustProxy: false | number | string[]
  /** Whether NODE_ENV was given, rather than defaulted to development. */
  nodeEnvExplicit: boolean
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

/** proxy-addr's names for address ranges, accepted beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * TRUST_PROXY: `false`, a hop count, or a comma list of proxy addresses/CIDRs. `true` is
 * refused: it would believe the leftmost X-Forwarded-For entry, which the client writes itself.
 */
export function parseTrustProxy(value: string): false | number | string[] | string {
  const v = value.trim().toLowerCase()
  if (v === 'false' || v === '0' || v === '') return false
  if (v === 'true')
    return 'true would believe the X-Forwarded-For entry a client writes itself; give the number of proxies in front of Oja (e.g. 1) or their addresses/CIDRs'
  if (/^\d+$/.test(v)) return Number(v)
  const entries = v.split(',').map((e) => e.trim())
  const bad = entries.filter((e) => {
    if (PROXY_RANGE_NAMES.has(e)) return false
    const [addr, bits, ...rest] = e.split('/')
    const family = isIP(addr ?? '')
    if (family === 0 || rest.length > 0) return true
    if (bits === undefined) return false
    const n = Number(bits)
    return !/^\d+$/.test(bits) || n > (family === 4 ? 32 : 128)
  })
  if (bad.length > 0) return `not an address, CIDR or hop count: ${bad.join(', ')}`
  return entries
}

/** Schemes a browser would run or read locally: never a place to send a payer back to. */
const UNSAFE_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about'])

/**
 * PAYMENT_CALLBACK_ORIGINS: a comma list of `scheme://…` prefixes; unset or empty: undefined
 * (any http(s) URL). Returns a message when an entry is not such a prefix.
 */
export function parseCallbackOrigins(value: string | undefined): string[] | undefined | string {
  if (value === undefined || value.trim() === '') return undefined
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  const bad = entries.filter((e) => {
    const m = /^([a-z][a-z0-9+.-]*):\/\/\S*$/i.exec(e)
    return !m || UNSAFE_SCHEMES.has(m[1]!.toLowerCase())
  })
  if (bad.length > 0) return `not a scheme://… prefix (or a scheme no payer may be sent to): ${bad.join(', ')}`
  return entries
}

const DEV_JWT_SECRET = 'oja-development-secret-do-not-use-in-production-0123456789'

/**
 * Reads and checks the environment. Empty strings count as unset. A bad value throws a
 * ConfigError naming each variable at fault.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Env> = {},
): Config {
  const raw: Record<string, unknown> = {}
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = env[key]
    if (value !== undefined && value !== '') raw[key] = value
  }
  const converted = Value.Convert(EnvSchema, Value.Default(EnvSchema, raw)) as Record<string, unknown>
  Object.assign(converted, overrides)
  const problems = [...Value.Errors(EnvSchema, converted)].map((e) => {
    const name = e.path.replace(/^\//, '')
    return `${name}: ${e.message} (got ${JSON.stringify(converted[name])})`
  })
  if (problems.length > 0) throw new ConfigError(problems)
  const parsed = converted as Env
  if (
    parsed.NODE_ENV === 'production' &&
    (parsed.PASSWORD_HASH_MEMORY_KIB < 7168 || parsed.PASSWORD_HASH_MEMORY_KIB * parsed.PASSWORD_HASH_PASSES < 35_840)
  ) {
    throw new ConfigError([
      'PASSWORD_HASH_MEMORY_KIB, PASSWORD_HASH_PASSES: below OWASP argon2id minimums in production (memory ≥ 7168 KiB and memory × passes ≥ 35840)',
    ])
  }
  if (parsed.NODE_ENV === 'production' && !parsed.JWT_SECRET) {
    throw new ConfigError(['JWT_SECRET: required when NODE_ENV=production'])
  }
  const nodeEnvExplicit = (env.NODE_ENV !== undefined && env.NODE_ENV !== '') || overrides.NODE_ENV !== undefined
  const trustProxy = parseTrustProxy(parsed.TRUST_PROXY)
  if (typeof trustProxy === 'string') throw new ConfigError([`TRUST_PROXY: ${trustProxy}`])
  const paymentCallbackOrigins = parseCallbackOrigins(parsed.PAYMENT_CALLBACK_ORIGINS)
  if (typeof paymentCallbackOrigins === 'string')
    throw new ConfigError([`PAYMENT_CALLBACK_ORIGINS: ${paymentCallbackOrigins}`])
  const publicUrl = (parsed.PUBLIC_URL ?? `http://${parsed.HOST}:${parsed.PORT}`).replace(/\/$/, '')
  return {
    ...parsed,
    trustProxy,
    nodeEnvExplicit,
    jwtSecret: parsed.JWT_SECRET ?? DEV_JWT_SECRET,
    cursorSecret: parsed.CURSOR_SECRET ?? parsed.JWT_SECRET ?? DEV_JWT_SECRET,
    publicUrl,
    appLinkBase: (parsed.APP_LINK_BASE ?? publicUrl).replace(/\/$/, ''),
    paymentCallbackOrigins,
    seedDemo: parsed.SEED_DEMO ?? !parsed.DATABASE_URL,
  }
}

/**
 * Refuses to serve on a real database with development's conveniences (the public Paystack
 * simulator, a known JWT secret) unless NODE_ENV says so: a forgotten NODE_ENV must not
 * quietly give goods away. In production it also refuses to run without SMTP_URL. Called by
 * the server at start (src/server.ts).
 */
export function assertSafeToServe(config: Config): void {
  // Without SMTP, mail only reaches the log: in production nobody could verify an address or
  // reset a password (and the links must not sit in the log).
  if (config.NODE_ENV === 'production' && !config.SMTP_URL)
    throw new ConfigError([
      'SMTP_URL: required when NODE_ENV=production (without it verification and password reset mails are never sent)',
    ])
  if (!config.DATABASE_URL || config.nodeEnvExplicit) return
  const missing = [!config.JWT_SECRET && 'JWT_SECRET', !config.PAYSTACK_SECRET_KEY && 'PAYSTACK_SECRET_KEY'].filter(
    (m): m is string => typeof m === 'string',
  )
  if (missing.length > 0)
    throw new ConfigError([
      `NODE_ENV: unset on a real database without ${missing.join(' and ')}; set NODE_ENV=production with ` +
        'the secrets, or NODE_ENV=development to run the Paystack simulator and a development secret on purpose',
    ])
}
