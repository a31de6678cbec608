import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { adminsQuery } from '../accounts/index.js'
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

    // The daily check (LEDGER_CHECK_INTERVAL_HOURS): one run across nodes, recorded in
    // ledger_checks; admins get a `ledger_mismatch` notification when it finds differences.
    let checking: Promise<unknown> | undefined
    app.sweeper.register({
      name: 'ledger-daily-check',
      run: async (trx) => {
        // A fresh database starts the clock: its first check is one interval later.
        if (!(await trx('ledger_checks').first('id'))) {
          await trx('ledger_checks').insert({ finished_at: trx.fn.now(), balanced: true })
          return 0
        }
        const { rows } = await trx.raw<{ rows: { due: boolean }[] }>(
          `select not exists (
             select 1 from ledger_checks
              where started_at > now() - (:hours * interval '1 hour')
                 or (finished_at is null and started_at > now() - interval '1 hour')
           ) as due`,
          { hours: app.config.LEDGER_CHECK_INTERVAL_HOURS },
        )
        if (!rows[0]?.due || checking) return 0
        const [run] = await trx('ledger_checks').insert({}).returning('id')
        const committed = trx.executionPromise
        checking = committed
          .then(() => runCheck(run!.id))
          .catch((err: unknown) => app.log.warn({ err }, 'ledger check failed'))
          .finally(() => {
            checking = undefined
          })
        return 1
      },
    })
    async function runCheck(id: string): Promise<void> {
      try {
        const mismatches = await ledger.check(system)
        await app.spine.transaction(system, async (tx) => {
          await tx
            .db('ledger_checks')
            .where('id', id)
            .update({
              finished_at: tx.db.fn.now(),
              balanced: mismatches.length === 0,
              mismatches: tx.db.raw('?::jsonb', [JSON.stringify(mismatches.slice(0, 1_000))]),
            })
          if (mismatches.length > 0)
            await app.spine.notify(tx, adminsQuery(tx.db), 'ledger_mismatch', {
              checkId: id,
              count: mismatches.length,
              first: mismatches[0]!.detail.slice(0, 300),
            })
        })
        if (mismatches.length > 0)
          app.log.error({ checkId: id, count: mismatches.length }, 'ledger check found differences')
      } catch (err) {
        await app
          .db('ledger_checks')
          .where('id', id)
          .update({ finished_at: app.db.fn.now(), error: String((err as Error).message).slice(0, 500) })
        throw err
      }
    }

    app.addHook('preClose', async () => {
      await Promise.all([running, checking])
    })
  },
  { name: 'oja-ledger', dependencies: ['oja-auth', 'oja-errors'] },
)
