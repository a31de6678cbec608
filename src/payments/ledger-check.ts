import type { LedgerCheckPart } from '../ledger/index.js'
import type { PaymentsDeps } from './payments.deps.js'
import { amountOf } from './paystack.client.js'
import { listAll, PER_PAGE, refundTransaction } from './reconciliation.js'

type LedgerMoney = { reference: string; order_id: string; captured: number; settled: number; in_flight: boolean }

/**
 * The ledger against Paystack's own lists for the reconciliation window (a part of
 * `GET /v1/admin/ledger/check`): every successful transaction Paystack lists is a payment the
 * ledger captured for the same amount, every capture of the window is one Paystack lists, and
 * per transaction the refunds Paystack holds (all but failed ones) equal the refunds the
 * ledger settled out of the clearing account.
 */
export function paystackLedgerCheck(deps: PaymentsDeps): LedgerCheckPart {
  return async (ctx) => {
    const to = new Date()
    const from = new Date(to.getTime() - deps.config.PAYSTACK_RECONCILE_WINDOW_HOURS * 3_600_000)
    const query = { from: from.toISOString(), to: to.toISOString(), perPage: PER_PAGE }
    const transactions = (
      await listAll((page) => deps.gateway.listTransactions({ ...query, status: 'success', page }))
    ).filter((tx) => String(tx.status) === 'success')
    const refunds = await listAll((page) => deps.gateway.listRefundsBetween({ ...query, page }))

    const { rows } = await ctx.db.raw<{ rows: LedgerMoney[] }>(
      `select p.reference, p.order_id,
              coalesce((select -sum(e.amount) from ledger_entries e
                         where e.order_id = p.order_id and e.account = 'paystack_clearing' and e.type = 'capture'), 0)::bigint as captured,
              coalesce((select sum(e.amount) from ledger_entries e
                         where e.order_id = p.order_id and e.account = 'paystack_clearing' and e.type = 'refund_settled'), 0)::bigint as settled,
              (o.payment_status = 'pending' and o.expires_at > now()) as in_flight
         from payments p join orders o on o.id = p.order_id
        where not exists (select 1 from unsettled_payments u where u.reference = p.reference)
          and (p.reference = any(:refs) or (p.status = 'success' and p.paid_at >= :from))
`,
      { refs: transactions.map((tx) => tx.reference), from },
    )
    const ours = new Map(rows.map((r) => [r.reference, r]))
    // What Oja could not settle by itself is listed for admins as unsettled, not repeated here.
    const raised = new Set(
      (
        await ctx
          .db('unsettled_payments')
          .whereIn(
            'reference',
            transactions.map((tx) => tx.reference),
          )
          .select('reference')
      ).map((u) => u.reference),
    )
    const listed = new Set(transactions.map((tx) => tx.reference))
    const out: { kind: string; ref: string; detail: string }[] = []
    const refundedAt = new Map<string, number>()
    for (const r of refunds) {
      if (String(r.status) === 'failed') continue
      const { reference, id } = refundTransaction(r)
      const tx = reference ?? transactions.find((t) => amountOf(t.id) === id)?.reference
      if (tx) refundedAt.set(tx, (refundedAt.get(tx) ?? 0) + (amountOf(r.amount) ?? 0))
    }
    for (const tx of transactions) {
      const amount = amountOf(tx.amount) ?? 0
      if (raised.has(tx.reference)) continue
      const mine = ours.get(tx.reference)
      // A checkout still inside its window whose payment Oja has not confirmed yet: in flight.
      if (mine?.in_flight && mine.captured === 0) continue
      if (!mine || mine.captured === 0) {
        out.push({
          kind: 'paystack_capture_missing',
          ref: tx.reference,
          detail: `Paystack took ${amount} for ${tx.reference}; the ledger has no capture of it`,
        })
        continue
      }
      if (mine.captured !== amount)
        out.push({
          kind: 'paystack_capture_differs',
          ref: tx.reference,
          detail: `Paystack took ${amount} for ${tx.reference}; the ledger captured ${mine.captured}`,
        })
      const theirs = refundedAt.get(tx.reference) ?? 0
      if (theirs !== mine.settled)
        out.push({
          kind: 'paystack_refunds_differ',
          ref: tx.reference,
          detail: `Paystack holds ${theirs} of refunds for ${tx.reference}; the ledger settled ${mine.settled}`,
        })
    }
    for (const mine of rows)
      if (mine.captured > 0 && !listed.has(mine.reference))
        out.push({
          kind: 'ledger_capture_unknown',
          ref: mine.reference,
          detail: `the ledger captured ${mine.captured} for ${mine.reference}, which Paystack does not list as a success`,
        })
    return out
  }
}
