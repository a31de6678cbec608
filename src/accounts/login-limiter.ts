import type { Redis } from 'ioredis'
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { clientKey, createLimiter, retryAfterSeconds } from '../http/index.js'
import { Errors } from '../shared/index.js'

/**
 * Limits failed logins: 10 per account and IP together and 30 per IP, per 15 minutes
 * (times RATE_LIMIT_SCALE). Keying the account limit by IP as well means a stranger cannot
 * lock an account out from elsewhere. An IPv6 client counts by its /64 (see clientKey).
 *
 * Every attempt takes its point before the password is checked (`attempt`), in one atomic
 * step per counter, so concurrent wrong guesses cannot all pass a check made before any of
 * them was counted; a success gives the points back (`succeed`). While Redis is unreachable
 * the counts are kept in this node's memory (see createLimiter), so logins neither fail nor
 * go unlimited.
 */
export class LoginLimiter {
  private readonly byAccountAndIp?: RateLimiterAbstract
  private readonly byIp?: RateLimiterAbstract

  constructor(opts: { scale: number; redis?: Redis | null; prefix: string }) {
    if (opts.scale <= 0) return
    const make = (keyPrefix: string, points: number) =>
      createLimiter({
        redis: opts.redis,
        keyPrefix: `${opts.prefix}${keyPrefix}`,
        points,
        scale: opts.scale,
        durationSeconds: 15 * 60,
      })
    this.byAccountAndIp = make('login-fail-acct:', 10)
    this.byIp = make('login-fail-ip:', 30)
  }

  /** Counts an attempt before its password is checked; refuses with 429 when either limit is used up. */
  async attempt(email: string, ip: string): Promise<void> {
    if (!this.byAccountAndIp || !this.byIp) return
    const client = clientKey(ip)
    const results = await Promise.allSettled([
      this.byAccountAndIp.consume(`${email}|${client}`),
      this.byIp.consume(client),
    ])
    let refusal: RateLimiterRes | undefined
    for (const r of results) {
      if (r.status === 'fulfilled') continue
      if (!(r.reason instanceof RateLimiterRes)) throw r.reason
      if (!refusal || r.reason.msBeforeNext > refusal.msBeforeNext) refusal = r.reason
    }
    if (refusal) throw Errors.rateLimited(retryAfterSeconds(refusal))
  }

  /** The password was right: the account+IP count starts again, and the attempt does not count against the IP. */
  async succeed(email: string, ip: string): Promise<void> {
    if (!this.byAccountAndIp || !this.byIp) return
    const client = clientKey(ip)
    await Promise.all([this.byAccountAndIp.delete(`${email}|${client}`), this.byIp.reward(client, 1)])
  }
}
