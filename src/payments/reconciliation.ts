import type { Ctx } from '../shared/index.js'
import type { Confirmation } from './confirmation.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { PaymentRow, RefundRow } from './payments.tables.js'
import { amountOf, type ListPage, type PaystackRefund, type PaystackTransaction } from './paystack.client.js'
import type { Refunds } from './refunds.js'
import type { Unsettled } from './unsettled.js'

/** What one reconciliation saw and did. */
export type ReconcileReport = { transactions: number; refunds: number; healed: number; unsettled: number }

export const PER_PAGE = 100
/** A bound on the pages read per list (20 000 rows at 100 a page), so a bad `meta` cannot loop. */
const MAX_PAGES = 200
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export async function listAll<T>(fetchPage: (page: number) => Promise<ListPage<T>>): Promise<T[]> {
  const all: T[] = []
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data, meta } = await fetchPage(page)
    all.push(...data)
    const last = typeof meta.pageCount === 'number' ? page >= meta.pageCount : data.length < PER_PAGE
    if (data.length === 0 || last) break
  }
  return all
}

/** The transaction a Paystack refund belongs to: its reference when Paystack embeds it, else its id. */
export function refundTransaction(r: PaystackRefund): { reference: string | undefined; id: number | undefined } {
  const tx: unknown = r.transaction
  if (tx && typeof tx === 'object') {
    const t = tx as { reference?: unknown; id?: unknown }
    return { reference: typeof t.reference === 'string' ? t.reference : undefined, id: amountOf(t.id) }
  }
  return { reference: undefined, id: amountOf(tx) }
}

/** The refund state Oja keeps for a Paystack refund status, if it is one Oja knows. */
function ojaRefundState(status: string): 'processing' | 'processed' | 'failed' | undefined {
  if (status === 'processed') return 'processed'
  if (status === 'failed') return 'failed'
  if (status === 'pending' || status === 'processing') return 'processing'
  return undefined
}

/**
 * The periodic reconciliation: Paystack's successful transactions and its refunds of a
 * recent window (`GET /transaction`, `GET /refund`) against Oja's payments and refunds.
 * A success Oja has not settled is confirmed now (paid if the checkout's rules still hold,
 * refunded otherwise); a refund Oja lacks or knows in another state is applied as its
 * webhook would have been; and per transaction, what Paystack holds (captured − refunded)
 * must equal what Oja holds. A difference that does not heal is raised as unsettled; an
 * unsettled payment whose two sides agree again is resolved.
 */
export function createReconciliation(
  deps: PaymentsDeps,
  parts: { confirmation: Confirmation; refunds: Refunds; unsettled: Unsettled },
) {
  const { gateway, log } = deps
  const { unsettled } = parts

  async function reconcile(ctx: Ctx, window?: { from: Date; to: Date }): Promise<ReconcileReport> {
    const to = window?.to ?? new Date()
    const from = window?.from ?? new Date(to.getTime() - deps.config.PAYSTACK_RECONCILE_WINDOW_HOURS * 3_600_000)
    const query = { from: from.toISOString(), to: to.toISOString(), perPage: PER_PAGE }
    // Rows Oja changed after this moment are in flight: compared on the next run.
    const { rows: clock } = await ctx.db.raw<{ rows: { now: Date }[] }>('select now() as now')
    const listedAt = clock[0]!.now
    const transactions = (
      await listAll((page) => gateway.listTransactions({ ...query, status: 'success', page }))
    ).filter((tx) => String(tx.status) === 'success')
    const providerRefunds = await listAll((page) => gateway.listRefundsBetween({ ...query, page }))
    const report: ReconcileReport = {
      transactions: transactions.length,
      refunds: providerRefunds.length,
      healed: 0,
      unsettled: 0,
    }

    const txByRef = new Map(transactions.map((tx) => [tx.reference, tx]))
    const refundsOfTx = (tx: Pick<PaystackTransaction, 'reference' | 'id'>) =>
      providerRefunds.filter((r) => {
        const of = refundTransaction(r)
        return of.reference !== undefined ? of.reference === tx.reference : of.id === amountOf(tx.id)
      })
    /** Captured − refunded on Paystack's side, for a transaction it listed as a success. */
    const paystackNet = (tx: PaystackTransaction) =>
      (amountOf(tx.amount) ?? 0) -
      refundsOfTx(tx)
        .filter((r) => String(r.status) !== 'failed')
        .reduce((sum, r) => sum + (amountOf(r.amount) ?? 0), 0)

    const refs = [...txByRef.keys()]
    const payments = new Map(
      (refs.length > 0 ? await ctx.db('payments').whereIn('reference', refs) : []).map((p) => [p.reference, p]),
    )
    const mismatched = new Set(
      refs.length > 0
        ? (
            await ctx
              .db('unsettled_payments')
              .whereIn('reference', refs)
              .where('kind', 'amount_mismatch')
              .select('reference')
          ).map((u) => u.reference)
        : [],
    )

    // 1. Successes Oja has not settled (a webhook that never came, a checkout expired meanwhile).
    const unanswered = new Set<string>()
    for (const tx of transactions) {
      const payment = payments.get(tx.reference)
      if (!payment) {
        if (paystackNet(tx) === 0) {
          await unsettled.resolve(ctx.db, tx.reference)
          continue
        }
        await unsettled.raise(ctx, {
          reference: tx.reference,
          orderId: null,
          kind: 'unknown_transaction',
          paystackAmount: paystackNet(tx),
          ojaAmount: null,
          currency: typeof tx.currency === 'string' ? tx.currency.slice(0, 3) : null,
          detail: `Paystack lists a successful transaction ${tx.reference} (id ${String(tx.id)}) that Oja has no payment for`,
        })
        report.unsettled++
        continue
      }
      // A mismatch is confirmed once; after that only the balance below counts.
      if (payment.status === 'success' || mismatched.has(tx.reference)) continue
      try {
        const r = await parts.confirmation.confirmByReference(ctx, tx.reference)
        if (r.outcome === 'paid' || r.outcome === 'late_refunded') report.healed++
        if (r.outcome === 'mismatch') report.unsettled++
      } catch (err) {
        unanswered.add(tx.reference)
        log.warn({ reference: tx.reference, err: (err as Error).message }, 'reconciliation could not confirm a payment')
      }
    }

    // 2. Refunds Paystack holds that Oja lacks (made on the dashboard, their webhook lost) or
    // knows in another state: applied as their webhook would have been.
    for (const r of providerRefunds) {
      const of = refundTransaction(r)
      const payment: PaymentRow | undefined =
        of.reference !== undefined
          ? await ctx.db('payments').where('reference', of.reference).first()
          : of.id !== undefined
            ? await ctx.db('payments').where('provider_transaction_id', of.id).first()
            : undefined
      if (!payment || payment.status !== 'success') continue
      const state = ojaRefundState(String(r.status))
      const providerId = amountOf(r.id)
      const amount = amountOf(r.amount)
      if (!state || amount === undefined) continue
      const marker = typeof r.merchant_note === 'string' ? /^oja-refund:(.+)$/.exec(r.merchant_note)?.[1] : undefined
      const ours =
        (providerId !== undefined
          ? await ctx.db('refunds').where({ payment_id: payment.id, provider_refund_id: providerId }).first()
          : undefined) ??
        (marker && UUID.test(marker)
          ? await ctx.db('refunds').where({ payment_id: payment.id, id: marker }).first()
          : undefined)
      // Oja's own refund still being sent: its sender adopts Paystack's (refunds.ts).
      if (ours?.status === 'pending') continue
      if (ours ? ours.status === state || ours.status === 'processed' : state === 'failed') continue
      try {
        await parts.refunds.applyRefundEvent(ctx, `refund.${state}`, {
          ...(providerId !== undefined ? { id: providerId } : {}),
          transaction_reference: payment.reference,
          amount,
          currency: r.currency,
        })
        report.healed++
      } catch (err) {
        log.warn({ refundId: r.id, err: (err as Error).message }, 'reconciliation could not apply a refund')
      }
    }

    // 3. Per transaction, Paystack's captured − refunded against Oja's.
    const openRefs = (
      await ctx
        .db('unsettled_payments')
        .whereNull('resolved_at')
        .whereNot('kind', 'unknown_transaction')
        .select('reference')
    ).map((u) => u.reference)
    const compared = await ctx
      .db('payments')
      .where((q) => {
        q.whereIn('reference', [...payments.keys()])
        // Oja's successes Paystack does not list, and what is open, within the window.
        q.orWhere((w) =>
          w
            .where('created_at', '>=', from)
            .where('created_at', '<=', to)
            .where((x) => x.where('status', 'success').orWhereIn('reference', openRefs)),
        )
      })
      .where('updated_at', '<=', listedAt)
    const refundsOf = new Map<string, RefundRow[]>()
    for (const r of compared.length > 0
      ? await ctx.db('refunds').whereIn(
          'payment_id',
          compared.map((p) => p.id),
        )
      : [])
      refundsOf.set(r.payment_id, [...(refundsOf.get(r.payment_id) ?? []), r])
    const waiting = new Set(
      (compared.length > 0
        ? await ctx
            .db('payment_events')
            .whereIn(
              'reference',
              compared.map((p) => p.reference),
            )
            .whereNull('processed_at')
            .whereNull('gave_up_at')
            .select('reference')
        : []
      ).map((e) => e.reference),
    )
    for (const payment of compared) {
      // Still in play (a checkout being paid) or not confirmable now: the retries have it.
      if (payment.status === 'pending' || payment.status === 'initializing' || unanswered.has(payment.reference))
        continue
      const ours = refundsOf.get(payment.id) ?? []
      const moved = (x: RefundRow) => Math.max(x.created_at.getTime(), x.updated_at.getTime()) > listedAt.getTime()
      // A refund being sent or changed during the run, or a webhook still to process: next run.
      if (ours.some((x) => x.status === 'pending' || moved(x)) || waiting.has(payment.reference)) continue
      const tx = txByRef.get(payment.reference)
      const theirs = tx ? paystackNet(tx) : 0
      const mine =
        (payment.status === 'success' ? Number(payment.amount) : 0) -
        ours.filter((x) => x.status !== 'failed').reduce((sum, x) => sum + Number(x.amount), 0)
      if (theirs === mine) {
        await unsettled.resolve(ctx.db, payment.reference)
        continue
      }
      const open = await ctx
        .db('unsettled_payments')
        .where('reference', payment.reference)
        .whereNull('resolved_at')
        .first('id')
      if (open) continue
      await unsettled.raise(ctx, {
        reference: payment.reference,
        orderId: payment.order_id,
        kind: 'balance_mismatch',
        paystackAmount: theirs,
        ojaAmount: mine,
        currency: payment.currency,
        detail: `Paystack holds ${theirs} (captured − refunded) for ${payment.reference}; Oja holds ${mine}`,
      })
      report.unsettled++
    }
    // Unknown transactions Paystack has since refunded in full.
    for (const u of await ctx
      .db('unsettled_payments')
      .whereNull('resolved_at')
      .where('kind', 'unknown_transaction')
      .select('reference')) {
      const tx = txByRef.get(u.reference)
      if (tx && paystackNet(tx) === 0) await unsettled.resolve(ctx.db, u.reference)
    }
    return report
  }

  /** Runs a reconciliation the sweeper recorded in payment_reconciliations, and records its outcome there. */
  async function runRecorded(ctx: Ctx, runId: string): Promise<void> {
    const run = await ctx.db('payment_reconciliations').where('id', runId).first()
    if (!run || run.finished_at) return
    try {
      const report = await reconcile(ctx, { from: run.window_from, to: run.window_to })
      await ctx
        .db('payment_reconciliations')
        .where('id', runId)
        .update({ ...report, finished_at: ctx.db.fn.now() })
      log.info({ ...report }, 'Paystack reconciliation done')
    } catch (err) {
      await ctx
        .db('payment_reconciliations')
        .where('id', runId)
        .update({ finished_at: ctx.db.fn.now(), error: String((err as Error).message).slice(0, 300) })
      throw err
    }
  }

  return { reconcile, runRecorded }
}

export type Reconciliation = ReturnType<typeof createReconciliation>
