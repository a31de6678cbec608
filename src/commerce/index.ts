import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { cartRoutes } from '../cart/index.js'
import { checkoutRoutes } from '../checkout/index.js'
import { createCheckoutService } from '../checkout/index.js'
import { couponsRoutes } from '../coupons/index.js'
import { idempotencyPlugin } from '../idempotency/index.js'
import { ordersRoutes } from '../orders/index.js'
import { createOrdersService, type OrdersService } from '../orders/index.js'
import { paymentsRoutes } from '../payments/index.js'
import { createPaymentsService, type PaymentsService } from '../payments/index.js'
import { createPaystackClient, type PaymentGateway, type Transport } from '../payments/index.js'
import { PaystackSimulator, simulatorRoutes } from '../payments/index.js'
import { Background } from './background.js'
import type { CommerceDeps } from './commerce.deps.js'

export type Commerce = {
  payments: PaymentsService
  orders: OrdersService
  gateway: PaymentGateway
  /** Set when no PAYSTACK_SECRET_KEY is configured: the built-in simulator. */
  simulator: PaystackSimulator | undefined
  /** Resolves when background work (webhook processing) has finished: for shutdown and tests. */
  idle(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    commerce: Commerce
  }
}

/** Calls the simulator's routes in-process, through the app's own HTTP stack. */
function injectTransport(app: FastifyInstance): Transport {
  return async (url, init) => {
    const u = new URL(url)
    const res = await app.inject({
      method: init.method as 'GET' | 'POST',
      url: u.pathname + u.search,
      headers: init.headers,
      ...(init.body !== undefined ? { payload: init.body } : {}),
    })
    return { status: res.statusCode, text: async () => res.body }
  }
}

/**
 * The commerce feature (issue 4): cart, coupons, checkout with Paystack, payments and
 * webhooks, orders and shipments, refunds, and their background jobs.
 */
export const commerceFeature = fp(
  async (app: FastifyInstance) => {
    const config = app.config
    const simulated = !config.PAYSTACK_SECRET_KEY
    if (simulated && config.NODE_ENV === 'production') {
      throw new Error(
        'PAYSTACK_SECRET_KEY is required when NODE_ENV=production (without it Oja would run the Paystack simulator and give goods away)',
      )
    }
    const simulator = simulated ? new PaystackSimulator() : undefined
    const secretKey = config.PAYSTACK_SECRET_KEY ?? simulator!.secretKey
    const gateway = createPaystackClient({
      secretKey,
      baseUrl: simulated ? 'http://paystack-simulator.internal/paystack-sim' : config.PAYSTACK_BASE_URL,
      timeoutMs: config.PAYSTACK_TIMEOUT_MS,
      ...(simulated ? { transport: injectTransport(app) } : {}),
    })
    if (simulated)
      app.log.info(
        { checkoutPages: `${config.publicUrl}/paystack-sim/checkout/:code` },
        'PAYSTACK_SECRET_KEY unset: payments go to the built-in Paystack simulator',
      )

    const background = new Background(app.log)
    const deps: CommerceDeps = {
      config,
      spine: app.spine,
      gateway,
      mailQueued: () => app.mail.kick(),
      background,
      log: app.log,
    }
    const payments = createPaymentsService(deps)
    const orders = createOrdersService(deps, payments)
    const checkout = createCheckoutService(deps, payments)
    app.decorate('commerce', { payments, orders, gateway, simulator, idle: () => background.idle() })
    app.addHook('preClose', async () => {
      simulator?.stop()
      await background.idle()
    })

    await app.register(async (scope) => {
      await scope.register(idempotencyPlugin, { db: app.db })
      await scope.register(cartRoutes)
      await scope.register(couponsRoutes)
      await scope.register(checkoutRoutes, { checkout, rateLimitScale: config.RATE_LIMIT_SCALE })
      await scope.register(ordersRoutes, { orders })
      await scope.register(paymentsRoutes, {
        payments,
        background,
        secretKey,
        webhookIps: config.PAYSTACK_WEBHOOK_IPS,
        rateLimitScale: config.RATE_LIMIT_SCALE,
      })
      if (simulator) {
        await scope.register(simulatorRoutes, {
          prefix: '/paystack-sim',
          simulator,
          publicUrl: config.publicUrl,
          deliverWebhook: async (rawBody, signature) => {
            const res = await app.inject({
              method: 'POST',
              url: '/v1/webhooks/paystack',
              headers: { 'content-type': 'application/json', 'x-paystack-signature': signature },
              payload: rawBody,
            })
            if (res.statusCode !== 200)
              app.log.warn({ status: res.statusCode, body: res.body }, 'simulated webhook refused')
          },
        })
      }
    })

    // Background jobs: each finds its due work on one node at a time (advisory lock) and hands it to the background.
    const system = { db: app.db, log: app.log }
    app.sweeper.register({ name: 'commerce-expire-checkouts', run: (trx) => payments.expireDueCheckouts(trx, system) })
    app.sweeper.register({ name: 'commerce-reverify-payments', run: (trx) => payments.reverifyPending(trx, system) })
    app.sweeper.register({
      name: 'commerce-release-reservations',
      run: (trx) => payments.releaseExpiredReservations(trx),
    })
    app.sweeper.register({ name: 'commerce-retry-refunds', run: (trx) => payments.retryRefunds(trx, system) })
    app.sweeper.register({ name: 'commerce-replay-webhooks', run: (trx) => payments.replayWebhooks(trx, system) })
  },
  { name: 'oja-commerce', dependencies: ['oja-auth', 'oja-errors'] },
)

export { shipmentForReview } from '../orders/index.js'

export type { Background } from './background.js'
export type { CommerceDeps } from './commerce.deps.js'
