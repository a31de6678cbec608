import type { Redis } from 'ioredis'
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible'
import { createLimiter, retryAfterSeconds } from '../http/index.js'
import { AppError, Errors } from '../shared/index.js'
import { CouponErrors } from './coupons.errors.js'

/** Who looks a coupon code up. */
export type CouponLookupBy = { userId: string; ip: string }

/**
 * Failed coupon lookups (a code that does not exist): COUPON_FAILURE_LIMIT_PER_USER per user
 * and COUPON_FAILURE_LIMIT_PER_IP per IP, per hour (times RATE_LIMIT_SCALE; 0 turns them
 * off), so codes cannot be guessed by trying them. Once either is used up, every lookup
 * (right or wrong) is refused with 429 RATE_LIMITED before the code is read. With Redis the
 * counts are shared by every node.
 */
export class CouponGuard {
  private readonly byUser?: RateLimiterAbstract
  private readonly byIp?: RateLimiterAbstract

  constructor(opts: { scale: number; redis?: Redis | null; prefix: string; perUser: number; perIp: number }) {
    if (opts.scale <= 0) return
    const make = (keyPrefix: string, points: number) =>
      createLimiter({
        redis: opts.redis,
        keyPrefix: `${opts.prefix}${keyPrefix}`,
        points,
        scale: opts.scale,
        durationSeconds: 60 * 60,
      })
    this.byUser = make('coupon-fail-user:', opts.perUser)
    this.byIp = make('coupon-fail-ip:', opts.perIp)
  }

  /** Runs a lookup of a code the client typed: refused early when a limit is used up; a COUPON_NOT_FOUND counts. */
  async lookup<T>(by: CouponLookupBy, run: () => Promise<T>): Promise<T> {
    await this.check(by)
    try {
      return await run()
    } catch (err) {
      if (err instanceof AppError && err.code === CouponErrors.notFound.code) await this.fail(by)
      throw err
    }
  }

  private async check(by: CouponLookupBy): Promise<void> {
    if (!this.byUser || !this.byIp) return
    const [user, ip] = await Promise.all([this.byUser.get(by.userId), this.byIp.get(by.ip)])
    for (const [res, limiter] of [
      [user, this.byUser],
      [ip, this.byIp],
    ] as const) {
      if (res && res.consumedPoints >= limiter.points) throw Errors.rateLimited(retryAfterSeconds(res))
    }
  }

  private async fail(by: CouponLookupBy): Promise<void> {
    if (!this.byUser || !this.byIp) return
    const ignoreUsedUp = (r: unknown) => {
      if (!(r instanceof RateLimiterRes)) throw r
    }
    await Promise.all([
      this.byUser.penalty(by.userId, 1).catch(ignoreUsedUp),
      this.byIp.penalty(by.ip, 1).catch(ignoreUsedUp),
    ])
  }
}
