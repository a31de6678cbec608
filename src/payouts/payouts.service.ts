import { randomUUID } from 'node:crypto'
import { audit } from '../audit/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { createPayoutAccounts, lockSellerBalance } from './payout-accounts.js'
import { naira, type PayoutsDeps } from './payouts.deps.js'
import { PayoutErrors as E } from './payouts.errors.js'
import type { AdminPayoutView, PayoutView } from './payouts.schemas.js'
import type { PayoutRow, PayoutStatus } from './payouts.tables.js'
import { createTransfers, referenceOf } from './transfers.js'

type ActorCtx = Ctx & { actor: Actor }

export function payoutView(p: PayoutRow): PayoutView {
  return {
    id: p.id,
    amount: p.amount,
    currency: 'NGN',
    status: p.status,
    reference: p.reference,
    ...(p.failure_reason ? { failureReason: p.failure_reason } : {}),
    createdAt: p.created_at.toISOString(),
    updatedAt: p.updated_at.toISOString(),
  }
}

function adminView(p: PayoutRow): AdminPayoutView {
  const open = p.status === 'pending' || p.status === 'processing'
  return {
    ...payoutView(p),
    sellerId: p.seller_id,
    attempts: p.attempts,
    lastError: p.last_error,
    nextAttemptAt: open ? p.next_attempt_at.toISOString() : null,
  }
}

type PageRow = PayoutRow & { created_key: string }

/**
 * Seller payouts: withdrawals of available money to the seller's bank account through
 * Paystack Transfers (transfers.ts), the payout account (payout-accounts.ts), the lists, and
 * admins' view and retry.
 */
export function createPayoutsService(deps: PayoutsDeps) {
  const { spine, ledger, config } = deps
  const accounts = createPayoutAccounts(deps)
  const transfers = createTransfers(deps)

  /**
   * A withdrawal (default: all of `available`). Under the seller's balance lock, so two at
   * once cannot both spend the same money: the payout row and its journal (available → in
   * transit) are written together; then, after commit, it is sent to Paystack. The same
   * Idempotency-Key again (after the plugin's own replay) gives the same payout.
   */
  async function create(ctx: ActorCtx, body: { amount?: number }, idempotencyKey?: string): Promise<PayoutView> {
    const sellerId = ctx.actor.id
    const made = await spine.transaction(ctx, async (tx) => {
      const available = await lockSellerBalance(tx.db, sellerId)
      if (idempotencyKey) {
        const earlier = await tx.db('payouts').where({ seller_id: sellerId, idempotency_key: idempotencyKey }).first()
        if (earlier) return { payout: earlier, fresh: false }
      }
      const user = await tx.db('users').where('id', sellerId).first('banned_at')
      if (!user || user.banned_at) throw E.notAllowed('A banned account cannot withdraw', 'account_banned')
      const account = await tx.db('payout_accounts').where('seller_id', sellerId).first()
      if (!account) throw E.notAllowed('Add a payout account first (PUT /v1/me/payout-account)', 'no_payout_account')
      const min = config.PAYOUT_MIN_AMOUNT
      const figures = { available, minimum: min }
      if (available <= 0) throw E.notAllowed('Nothing is available to withdraw', 'nothing_available', figures)
      const amount = body.amount ?? available
      if (amount < min)
        throw E.notAllowed(
          `A payout must be at least ${naira(min)}; ${naira(amount)} was asked for`,
          'below_minimum',
          figures,
        )
      if (amount > available)
        throw E.notAllowed(
          `Only ${naira(available)} is available to withdraw; ${naira(amount)} was asked for`,
          'above_available',
          figures,
        )
      const id = randomUUID()
      const [payout] = await tx
        .db('payouts')
        .insert({
          id,
          seller_id: sellerId,
          amount,
          currency: account.currency,
          reference: referenceOf(id),
          recipient_code: account.recipient_code,
          bank_name: account.bank_name,
          account_number_last4: account.account_number_last4,
          idempotency_key: idempotencyKey ?? null,
        })
        .returning('*')
      await ledger.payoutStarted(tx, { id, sellerId, amount, currency: account.currency })
      await audit(tx, {
        action: 'payout.requested',
        targetType: 'payout',
        targetId: id,
        after: {
          amount,
          reference: payout!.reference,
          bankName: account.bank_name,
          last4: account.account_number_last4,
        },
      })
      return { payout: payout!, fresh: true }
    })
    if (!made.fresh) return payoutView(made.payout)
    await transfers.send(ctx, made.payout.id, false)
    const now = await ctx.db('payouts').where('id', made.payout.id).first()
    return payoutView(now ?? made.payout)
  }

  async function page(
    ctx: Ctx,
    filter: { sellerId?: string; status?: PayoutStatus },
    q: { limit?: number; cursor?: string },
    scope: string,
  ) {
    const limit = q.limit ?? 20
    const afterKey = decodeCursor(q.cursor, 2, scope) as [string, string] | undefined
    const query = ctx.db('payouts')
    if (filter.sellerId) query.where('seller_id', filter.sellerId)
    if (filter.status) query.where('status', filter.status)
    if (afterKey) query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', afterKey)
    const rows: PageRow[] = await query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1)
      .select('*', ctx.db.raw(`to_json(created_at) #>> '{}' as created_key`))
    return pageOf(rows, limit, (r) => [r.created_key, r.id], scope)
  }

  /** The seller's payouts, newest first. */
  async function list(ctx: ActorCtx, q: { limit?: number; cursor?: string }) {
    const p = await page(ctx, { sellerId: ctx.actor.id }, q, 'payouts')
    return { items: p.items.map(payoutView), nextCursor: p.nextCursor }
  }

  /** One payout: its seller's, or any for an admin; 404 otherwise. */
  async function get(ctx: ActorCtx, id: string): Promise<PayoutView> {
    const p = await ctx.db('payouts').where('id', id).first()
    if (!p || (p.seller_id !== ctx.actor.id && ctx.actor.role !== 'admin')) throw E.payoutNotFound()
    return payoutView(p)
  }

  /** Every payout (admins), newest first, optionally of one status. */
  async function adminList(ctx: ActorCtx, q: { limit?: number; cursor?: string; status?: PayoutStatus }) {
    const p = await page(ctx, q.status ? { status: q.status } : {}, q, `admin-payouts:${q.status ?? ''}`)
    return { items: p.items.map(adminView), nextCursor: p.nextCursor }
  }

  /**
   * An admin sends a pending payout again now (same reference; Paystack is asked first) or
   * has a processing one verified now. A failed, paid or reversed one: 409. Audited.
   */
  async function adminRetry(ctx: ActorCtx, id: string): Promise<AdminPayoutView> {
    const before = await ctx.db('payouts').where('id', id).first()
    if (!before) throw E.payoutNotFound()
    if (before.status !== 'pending' && before.status !== 'processing') throw E.notRetryable(before.status)
    const worked =
      before.status === 'pending' ? await transfers.send(ctx, id, false) : await transfers.verify(ctx, id, false)
    if (!worked) throw E.busy()
    const after = (await ctx.db('payouts').where('id', id).first())!
    await audit(ctx, {
      action: 'admin.payout_retried',
      targetType: 'payout',
      targetId: id,
      before: { status: before.status, attempts: before.attempts },
      after: { status: after.status, attempts: after.attempts, providerStatus: after.provider_status },
    })
    return adminView(after)
  }

  /** Payouts the sweeper should act on now: pending ones due a send, processing ones due a verify. */
  async function due(db: Ctx['db'], limit: number): Promise<{ id: string; status: PayoutStatus }[]> {
    return db('payouts')
      .whereIn('status', ['pending', 'processing'])
      .where('next_attempt_at', '<=', db.fn.now())
      .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<', db.fn.now()))
      .orderBy('next_attempt_at')
      .limit(limit)
      .select('id', 'status')
  }

  return {
    banks: accounts.banks,
    getAccount: accounts.get,
    putAccount: accounts.put,
    removeAccount: accounts.remove,
    create,
    list,
    get,
    adminList,
    adminRetry,
    due,
    send: transfers.send,
    verify: transfers.verify,
    onTransferEvent: transfers.onTransferEvent,
  }
}

export type PayoutsService = ReturnType<typeof createPayoutsService>
