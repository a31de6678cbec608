import type { FastifyRequest } from 'fastify'
import type { RateLimitOptions } from '@fastify/rate-limit'

/**
 * Route config for a per-route limit, scaled by RATE_LIMIT_SCALE (0 turns it off).
 * Keys default to the client IP; pass `key` for per-account limits.
 */
export function routeLimit(
  scale: number,
  max: number,
  timeWindow: string,
  key?: (req: FastifyRequest) => string,
): { rateLimit?: RateLimitOptions } {
  if (scale <= 0) return { rateLimit: undefined }
  return {
    rateLimit: {
      max: Math.max(1, Math.round(max * scale)),
      timeWindow,
      ...(key ? { keyGenerator: key, hook: 'preHandler' as const } : {}),
    },
  }
}
