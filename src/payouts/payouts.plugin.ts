import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { idempotencyPlugin } from '../idempotency/index.js'
import type { Ctx } from '../shared/index.js'
import { payoutsCheck } from './payouts.check.js'
import { payoutsRoutes } from './payouts.routes.js'
import { createPayoutsService, type PayoutsService } from './payouts.service.js'

/** What the payouts feature gives operations and tests. */
export type Payouts = {
  service: PayoutsService
  /** Resolves when the work the sweeper handed over (sends, verifies) has finished. */
  idle(): Promise<void>
}

declare module 'fastify' {
  interface FastifyInstance {
    payouts: Payouts
  }
}

/**
 * The payouts feature: payout accounts, withdrawals through Paystack Transfers, their
 * `transfer.*` webhooks, the `payouts-retry` sweeper job and the payouts' part of the ledger
 * check. Registered after payments (the gateway, webhooks) and the ledger.
 */
export const payoutsFeature = fp(
  async (app: FastifyInstance) => {
    const gateway = app.payments.gateway
    const service = createPayoutsService({
      config: app.config,
      spine: app.spine,
      ledger: app.ledger,
      gateway,
      mailQueued: () => app.mail.kick(),
      log: app.log,
    })
    const system: Ctx = { db: app.db, log: app.log }

    for (const event of ['transfer.success', 'transfer.failed', 'transfer.reversed'])
      app.payments.service.onWebhook(event, (ctx, name, data) => service.onTransferEvent(ctx, name, data))
    app.ledger.addCheck(payoutsCheck(gateway))

    // The sweeper finds due payouts under its lock and hands them over: the work calls Paystack
    // and must not hold the sweeper's transaction (or, on PGlite, its only connection) meanwhile.
    // Each payout's lease keeps a second node from working on it at the same time.
    const running = new Set<Promise<void>>()
    const inFlight = new Set<string>()
    const handOver = (work: { id: string; status: string }[]) => {
      const fresh = work.filter((w) => !inFlight.has(w.id))
      for (const w of fresh) inFlight.add(w.id)
      if (fresh.length === 0) return 0
      const task: Promise<void> = (async () => {
        for (const w of fresh) {
          try {
            if (w.status === 'pending') await service.send(system, w.id, true)
            else await service.verify(system, w.id, true)
          } catch (err) {
            app.log.warn(
              { payoutId: w.id, err: (err as Error).message },
              'payout sweep step failed; retried next sweep',
            )
          } finally {
            inFlight.delete(w.id)
          }
        }
      })().finally(() => running.delete(task))
      running.add(task)
      return fresh.length
    }
    const idle = async () => {
      while (running.size > 0) await Promise.allSettled([...running])
    }
    app.sweeper.register({ name: 'payouts-retry', run: async (trx) => handOver(await service.due(trx, 20)) })
    app.decorate('payouts', { service, idle })
    app.addHook('preClose', idle)

    await app.register(async (scope) => {
      await scope.register(idempotencyPlugin, { db: app.db })
      await scope.register(payoutsRoutes, { payouts: service })
    })
  },
  { name: 'oja-payouts', dependencies: ['oja-auth', 'oja-errors', 'oja-payments', 'oja-ledger'] },
)
