import { normalizeIP, type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { Errors } from '../shared/index.js'

/**
 * A counter of `points` (times `scale`) per key per `durationSeconds`. With Redis the count is shared by every
 * node; while Redis cannot be reached each node counts in its own memory (rate-limiter-flexible's
 * insurance limiter) instead of failing the request or letting everything through.
 */
export function createLimiter(opts: {
  redis?: Redis | null
  keyPrefix: string
  points: number
  durationSeconds: number
  /** RATE_LIMIT_SCALE: multiplies `points` (at least 1 remains). */
  scale?: number
}): RateLimiterAbstract {
  const points = opts.scale === undefined ? opts.points : Math.max(1, Math.round(opts.points * opts.scale))
  const common = { keyPrefix: opts.keyPrefix, points, duration: opts.durationSeconds }
  return opts.redis
    ? new RateLimiterRedis({ ...common, storeClient: opts.redis, insuranceLimiter: new RateLimiterMemory(common) })
    : new RateLimiterMemory(common)
}

/** Takes one point for `key`; a used-up allowance throws 429 RATE_LIMITED with Retry-After. */
export async function consumeOrRefuse(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key)
  } catch (err) {
    if (err instanceof RateLimiterRes) throw Errors.rateLimited(retryAfterSeconds(err))
    throw err
  }
}

/**
 * A client address as a per-IP limit counts it: an IPv6 address by its /64 (what one
 * subscriber is given, so rotating within it gains nothing), as `@fastify/rate-limit` keys
 * its own limits; IPv4 as it is.
 */
export function clientKey(ip: string): string {
  return normalizeIP(ip)
}

export function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000))
}

/**
 * The store of `@fastify/rate-limit` (the per-route limits of `routeLimit`): its counts go
 * through `createLimiter`, so during a Redis outage they fall back to per-node memory counts
 * rather than being skipped (the plugin's own Redis store can only fail open with `skipOnError`).
 */
export function fallbackRateLimitStore(redis: Redis | null, nameSpace: string): FastifyRateLimitStoreCtor {
  class LimiterStore implements FastifyRateLimitStore {
    private readonly limiters = new Map<string, RateLimiterAbstract>()
    /** The plugin constructs the root store with its options; a route's store is its child. */
    keyPrefix = nameSpace

    incr(
      key: string,
      cb: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
      max: number,
    ): void {
      const shape = `${max}/${timeWindow}`
      let limiter = this.limiters.get(shape)
      if (!limiter) {
        limiter = createLimiter({
          redis,
          keyPrefix: `${this.keyPrefix}${shape}`,
          points: max,
          durationSeconds: Math.max(1, Math.ceil(timeWindow / 1000)),
        })
        this.limiters.set(shape, limiter)
      }
      // Over the limit is a rejection with the same figures; the plugin compares `current` with `max`.
      const answer = (res: RateLimiterRes) => cb(null, { current: res.consumedPoints, ttl: res.msBeforeNext })
      limiter.consume(key).then(answer, (err: unknown) => {
        if (err instanceof RateLimiterRes) answer(err)
        else cb(err instanceof Error ? err : new Error(String(err)))
      })
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      // At run time the plugin passes its merged limit options, with the route's own as `routeInfo`.
      const route: { method?: string | string[]; url?: string } | undefined = Reflect.get(routeOptions, 'routeInfo')
      const store = new LimiterStore()
      store.keyPrefix = `${nameSpace}${[route?.method ?? ''].flat().join(',')}${route?.url ?? ''}:`
      return store
    }
  }
  return LimiterStore
}
