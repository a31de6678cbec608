import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Ctx } from '../shared/index.js'
import { ledgerRoutes } from './ledger.routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Releases every shipment's money now due (the sweeper's job, run at once): how many were released. */
    releaseEscrow(): Promise<number>
  }
}

/**
 * The ledger feature: sellers' balances and entries, the admin check, and the job that
 * releases escrow ESCROW_RELEASE_DAYS after delivery (one node at a time).
 */
export const ledgerFeature = fp(
  async (app: FastifyInstance) => {
    const ledger = app.ledger
    const system: Ctx = { db: app.db, log: app.log }
    await app.register(ledgerRoutes, { ledger, check: () => ledger.check(system) })

    // Escrow released without the buyer: found under the sweeper's lock, moved after it in
    // transactions of 100 (each release happens once per shipment under its row lock, whichever
    // node runs it). While a node is still releasing, its next sweeps leave the job alone.
    let running: Promise<number> | undefined
    const releaseDue = async (): Promise<number> => {
      let total = 0
      for (;;) {
        const due = await ledger.dueForRelease(app.db, 2_000)
        if (due.length === 0) return total
        total += await ledger.releaseDue(system, due)
      }
    }
    app.decorate('releaseEscrow', async () => {
      await running
      return releaseDue()
    })
    app.sweeper.register({
      name: 'ledger-release-escrow',
      run: async (trx) => {
        if (running) return 0
        const due = await ledger.dueForRelease(trx, 1)
        if (due.length === 0) return 0
        running = releaseDue()
          .catch((err: unknown) => {
            app.log.warn({ err }, 'escrow release failed; retried next sweep')
            return 0
          })
          .finally(() => {
            running = undefined
          })
        return due.length
      },
    })
    app.addHook('preClose', async () => {
      await running
    })
  },
  { name: 'oja-ledger', dependencies: ['oja-auth', 'oja-errors'] },
)
