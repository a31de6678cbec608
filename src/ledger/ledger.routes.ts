import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorCtx } from '../http/index.js'
import { problems } from '../shared/index.js'
import type { Mismatch } from './check.js'
import type { Ledger } from './ledger.service.js'
import { Balance, LedgerCheck, LedgerPage, LedgerQuery } from './ledger.schemas.js'

const tags = ['money']

export const ledgerRoutes: FastifyPluginAsyncTypebox<{ ledger: Ledger; check: () => Promise<Mismatch[]> }> = async (
  app,
  { ledger, check },
) => {
  app.get(
    '/v1/me/balance',
    {
      schema: {
        operationId: 'getBalance',
        tags,
        summary: 'My money as a seller, in kobo: pending (escrow), available, on hold (disputes), in transit, paid out',
        response: { 200: Balance, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => {
      const ctx = actorCtx(req)
      const b = await ledger.balance(ctx.db, ctx.actor.id)
      return { ...b, currency: 'NGN' as const }
    },
  )

  app.get(
    '/v1/me/ledger',
    {
      schema: {
        operationId: 'listLedgerEntries',
        tags,
        summary: 'My ledger entries as a seller, newest first (cursor paging); amounts are signed on their bucket',
        querystring: LedgerQuery,
        response: { 200: LedgerPage, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => {
      const ctx = actorCtx(req)
      const page = await ledger.entries(ctx, ctx.actor.id, req.query)
      return { ...page, items: page.items.map((e) => ({ ...e, currency: 'NGN' as const })) }
    },
  )

  app.get(
    '/v1/admin/ledger/check',
    {
      schema: {
        operationId: 'checkLedger',
        tags: ['admin'],
        summary:
          'Checks the ledger: every journal sums to zero, every balance equals its entries, and every captured payment, refund and payout agrees with Oja’s records and Paystack’s',
        response: { 200: LedgerCheck, ...problems(401, 403, 502) },
      },
      config: { auth: 'admin' },
    },
    async () => {
      const mismatches = await check()
      return { balanced: mismatches.length === 0, mismatches }
    },
  )
}
