import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { Background } from './background.js'
import { paystackLedgerCheck } from './ledger-check.js'
import { paymentsRoutes } from './payments.routes.js'
import { createPaymentsService, type PaymentsService } from './payments.service.js'
import { PaystackSimulator, simulatorRoutes } from './paystack-simulator.js'
import { createPaystackClient, type PaymentGateway, type Transport } from './paystack.client.js'

/** What the payments feature gives the features registered after it (checkout, orders). */
export type Payments = {
  service: PaymentsService
  gateway: PaymentGateway
  /** Set when no PAYSTACK_SECRET_KEY is configured: the built-in simulator. */
  simulator: PaystackSimulator | undefined
  /** Resolves when background work (webhook processing, sweeps) has finished: for shutdown and tests. */
  idle(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    payments: Payments
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
 * The payments feature: the Paystack gateway (or, without a secret key, the built-in
 * simulator), payment confirmation, refunds, webhooks and their sweeper jobs. Decorates
 * `app.payments` for checkout and orders, which are registered after it.
 */
export const paymentsFeature = fp(
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
    const deps = {
      config,
      spine: app.spine,
      ledger: app.ledger,
      gateway,
      mailQueued: () => app.mail.kick(),
      background,
      log: app.log,
    }
    const service = createPaymentsService(deps)
    app.decorate('payments', { service, gateway, simulator, idle: () => background.idle() })
    // The ledger check compares captures and refunds with Paystack's lists too.
    app.ledger.addCheck(paystackLedgerCheck(deps))
    app.addHook('preClose', async () => {
      simulator?.stop()
      await background.idle()
    })

    await app.register(async (scope) => {
      await scope.register(paymentsRoutes, {
        payments: service,
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
    for (const job of service.jobs({ db: app.db, log: app.log })) app.sweeper.register(job)
  },
  { name: 'oja-payments', dependencies: ['oja-auth', 'oja-errors'] },
)
