import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { idempotencyPlugin } from '../idempotency/index.js'
import { checkoutRoutes } from './checkout.routes.js'
import { createCheckoutService } from './checkout.service.js'

/**
 * The checkout feature: turns the cart into an order, reserves its stock and starts the
 * Paystack payment (through `app.payments`, so it is registered after payments).
 */
export const checkoutFeature = fp(
  async (app: FastifyInstance) => {
    const checkout = createCheckoutService({
      config: app.config,
      spine: app.spine,
      gateway: app.payments.gateway,
      payments: app.payments.service,
      mailQueued: () => app.mail.kick(),
    })
    await app.register(async (scope) => {
      await scope.register(idempotencyPlugin, { db: app.db })
      await scope.register(checkoutRoutes, { checkout, rateLimitScale: app.config.RATE_LIMIT_SCALE })
    })
  },
  { name: 'oja-checkout', dependencies: ['oja-auth', 'oja-errors', 'oja-payments'] },
)
