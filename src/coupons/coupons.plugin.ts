import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CouponGuard } from './coupon-guard.js'
import { couponsRoutes } from './coupons.routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The cart and checkout run the codes clients type through `coupons.guard`. */
    coupons: { guard: CouponGuard }
  }
}

/** The coupons feature: the admins' coupon routes (checkout uses coupons through this folder's index). */
export const couponsFeature = fp(
  async (app: FastifyInstance) => {
    const guard = new CouponGuard({
      scale: app.config.RATE_LIMIT_SCALE,
      redis: app.redis,
      prefix: app.config.REDIS_PREFIX,
      perUser: app.config.COUPON_FAILURE_LIMIT_PER_USER,
      perIp: app.config.COUPON_FAILURE_LIMIT_PER_IP,
    })
    app.decorate('coupons', { guard })
    await app.register(couponsRoutes)
  },
  { name: 'oja-coupons', dependencies: ['oja-auth', 'oja-errors'] },
)
