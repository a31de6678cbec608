import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { idempotencyPlugin } from '../idempotency/index.js'
import { disputesRoutes } from './disputes.routes.js'
import { createDisputesService } from './disputes.service.js'

/**
 * The disputes feature: a buyer's dispute holds a shipment's money (src/ledger) until an
 * admin releases it, refunds it through payments, or splits it; the parties talk in its thread.
 */
export const disputesFeature = fp(
  async (app: FastifyInstance) => {
    const disputes = createDisputesService({ spine: app.spine, ledger: app.ledger, payments: app.payments.service })
    await app.register(async (scope) => {
      await scope.register(idempotencyPlugin, { db: app.db })
      await scope.register(disputesRoutes, { disputes, rateLimitScale: app.config.RATE_LIMIT_SCALE })
    })
  },
  { name: 'oja-disputes', dependencies: ['oja-auth', 'oja-errors', 'oja-payments', 'oja-orders', 'oja-ledger'] },
)
