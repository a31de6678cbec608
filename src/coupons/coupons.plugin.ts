import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { couponsRoutes } from './coupons.routes.js'

/** The coupons feature: the admins' coupon routes (checkout uses coupons through this folder's index). */
export const couponsFeature = fp(
  async (app: FastifyInstance) => {
    await app.register(couponsRoutes)
  },
  { name: 'oja-coupons', dependencies: ['oja-auth', 'oja-errors'] },
)
