import type { Redis } from 'ioredis'
import {
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterAbstract,
  type RateLimiterRes,
} from 'rate-limiter-flexible'
import { Errors } from '../shared/index.js'

/**
 * Counts failed logins: 10 per account and IP together and 30 per IP, per 15 minutes
 * (times RATE_LIMIT_SCALE). Keying the account limit by IP as well means a stranger cannot
 * lock an account out from elsewhere. A successful login clears the account+IP count.
 */
export class LoginLimiter {
  private readonly byAccountAndIp?: RateLimiterAbstract
  private readonly byIp?: RateLimiterAbstract

  constructor(opts: { scale: number; redis?: Redis | null; prefix: string }) {
    if (opts.scale <= 0) return
    const make = (keyPrefix: string, points: number) => {
      const common = {
        keyPrefix: `${opts.prefix}${keyPrefix}`,
        points: Math.max(1, Math.round(points * opts.scale)),
        duration: 15 * 60,
      }
      return opts.redis ? new RateLimiterRedis({ ...common, storeClient: opts.redis }) : new RateLimiterMemory(common)
    }
    this.byAccountAndIp = make('login-fail-acct:', 10)
    this.byIp = make('login-fail-ip:', 30)
  }

  /** Refuses with 429 when either limit is already used up. */
  async check(email: string, ip: string): Promise<void> {
    if (!this.byAccountAndIp || !this.byIp) return
    const [acct, byIp] = await Promise.all([this.byAccountAndIp.get(`${email}|${ip}`), this.byIp.get(ip)])
    for (const [res, limiter] of [
      [acct, this.byAccountAndIp],
      [byIp, this.byIp],
    ] as const) {
      if (res && res.consumedPoints >= limiter.points)
        throw Errors.rateLimited(Math.max(1, Math.ceil(res.msBeforeNext / 1000)))
    }
  }

  async fail(email: string, ip: string): Promise<void> {
    if (!this.byAccountAndIp || !this.byIp) return
    await Promise.all([
      this.byAccountAndIp.penalty(`${email}|${ip}`, 1).catch((r: RateLimiterRes) => r),
      this.byIp.penalty(ip, 1).catch((r: RateLimiterRes) => r),
    ])
  }

  async succeed(email: string, ip: string): Promise<void> {
    await this.byAccountAndIp?.delete(`${email}|${ip}`)
  }
}
