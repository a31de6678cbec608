import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { idempotencyPlugin } from '../idempotency/index.js'
import type { Payments } from '../payments/index.js'
import { ordersRoutes } from './orders.routes.js'
import { adminOrderSearchRoutes } from './orders.admin-search.js'
import { createOrdersService, type OrdersService } from './orders.service.js'

/** The commerce handle tests and operations use: services, the gateway, and a way to wait for background work. */
export type Commerce = {
  payments: Payments['service']
  orders: OrdersService
  gateway: Payments['gateway']
  /** Set when no PAYSTACK_SECRET_KEY is configured: the built-in simulator. */
  simulator: Payments['simulator']
  /** Resolves when background work (webhook processing) has finished: for shutdown and tests. */
  idle(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    commerce: Commerce
  }
}

/**
 * The orders feature: orders, sales and shipments, cancelling and admin refunds (through
 * `app.payments`, so it is registered after payments). It also decorates `app.commerce`.
 */
export const ordersFeature = fp(
  async (app: FastifyInstance) => {
    const payments = app.payments
    const orders = createOrdersService({ spine: app.spine, payments: payments.service, ledger: app.ledger })
    app.decorate('commerce', {
      payments: payments.service,
      orders,
      gateway: payments.gateway,
      simulator: payments.simulator,
      idle: () => payments.idle(),
    })
    await app.register(async (scope) => {
      await scope.register(idempotencyPlugin, { db: app.db })
      await scope.register(ordersRoutes, { orders })
      await scope.register(adminOrderSearchRoutes)
    })
  },
  { name: 'oja-orders', dependencies: ['oja-auth', 'oja-errors', 'oja-payments'] },
)
