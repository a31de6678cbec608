import type { Mismatch } from '../ledger/index.js'
import { amountOf, type PaymentGateway, type PaystackTransfer } from '../payments/index.js'
import type { Ctx } from '../shared/index.js'
import type { PayoutStatus } from './payouts.tables.js'
import { FAILED_STATES, REFERENCE_PREFIX } from './transfers.js'

/** How far back the check compares Oja's payouts with Paystack's list of transfers. */
export const CHECK_WINDOW_MS = 30 * 86_400_000
/** Pages of 100 transfers the check reads at most (10 000 transfers). */
const MAX_PAGES = 100

/** What Paystack may say of a payout in each state of ours (undefined: Paystack does not list it). */
const COMPATIBLE: Record<PayoutStatus, (providerStatus: string | undefined) => boolean> = {
  // Not sent yet, or sent with its answer lost: anything, or nothing.
  pending: () => true,
  // Paystack took it; its outcome may be on its way to us.
  processing: (s) => s !== undefined,
  paid: (s) => s === 'success',
  // Refused when sent (never made), or ended unpaid.
  failed: (s) => s === undefined || FAILED_STATES.has(s),
  reversed: (s) => s === 'reversed',
}

type LedgerRow = {
  id: string
  status: PayoutStatus | null
  amount: number | null
  was_paid: boolean | null
  journals: number | null
  available: number | null
  in_transit: number | null
  clearing: number | null
}

/**
 * The payouts' part of the ledger check (`app.ledger.addCheck`):
 * - each payout against its journals: started (available → in transit) always; paid (in
 *   transit → Paystack) when Paystack paid it; returned (→ available) when it failed or was
 *   reversed; and no payout entries without a payout;
 * - Paystack's transfers of the last 30 days against the payouts: every transfer with Oja's
 *   reference prefix is a payout, for its amount, in a state its payout allows (a paid payout
 *   is a `success`), and every payout Paystack took on is listed.
 */
export function payoutsCheck(gateway: PaymentGateway) {
  return async (ctx: Ctx): Promise<Mismatch[]> => {
    const out: Mismatch[] = []
    const { rows } = await ctx.db.raw<{ rows: LedgerRow[] }>(`
      with e as (
        select payout_id,
               count(distinct journal_id)::int as journals,
               coalesce(sum(amount) filter (where account = 'seller_available'), 0)::bigint as available,
               coalesce(sum(amount) filter (where account = 'seller_in_transit'), 0)::bigint as in_transit,
               coalesce(sum(amount) filter (where account = 'paystack_clearing'), 0)::bigint as clearing
          from ledger_entries where payout_id is not null group by payout_id)
      select coalesce(p.id, e.payout_id) as id, p.status, p.amount, p.paid_at is not null as was_paid,
             e.journals, e.available, e.in_transit, e.clearing
        from payouts p full join e on e.payout_id = p.id
       where p.id is null
          or coalesce(e.journals, 0) <> case when p.status in ('pending', 'processing') then 1
                                             when p.status = 'reversed' and p.paid_at is not null then 3 else 2 end
          or coalesce(e.available, 0) <> case when p.status in ('pending', 'processing', 'paid') then -p.amount else 0 end
          or coalesce(e.in_transit, 0) <> case when p.status in ('pending', 'processing') then p.amount else 0 end
          or coalesce(e.clearing, 0) <> case when p.status = 'paid' then p.amount else 0 end`)
    for (const r of rows)
      out.push(
        r.status === null
          ? {
              kind: 'payout_entries_orphaned',
              ref: r.id,
              detail: `ledger entries name payout ${r.id}, which does not exist`,
            }
          : {
              kind: 'payout_ledger_mismatch',
              ref: r.id,
              detail: `payout ${r.id} (${r.status}${r.was_paid ? ', had been paid' : ''}, ${r.amount}): ${r.journals ?? 0} journals; available ${r.available ?? 0}, in transit ${r.in_transit ?? 0}, Paystack ${r.clearing ?? 0}`,
            },
      )

    const from = new Date(Date.now() - CHECK_WINDOW_MS)
    const listed: PaystackTransfer[] = []
    try {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const answer = await gateway.listTransfers({
          from: from.toISOString(),
          to: new Date(Date.now() + 60_000).toISOString(),
          perPage: 100,
          page,
        })
        listed.push(...answer.data)
        const pageCount = answer.meta.pageCount ?? (answer.data.length < 100 ? page : page + 1)
        if (answer.data.length === 0 || page >= pageCount) break
        if (page === MAX_PAGES)
          out.push({
            kind: 'transfers_unchecked',
            ref: 'paystack',
            detail: `Paystack lists more than ${MAX_PAGES * 100} transfers in ${CHECK_WINDOW_MS / 86_400_000} days; only the first were compared`,
          })
      }
    } catch (err) {
      out.push({
        kind: 'transfers_unchecked',
        ref: 'paystack',
        detail: `Paystack's transfers could not be listed: ${(err as Error).message}`,
      })
      return out
    }

    const theirs = new Map<string, PaystackTransfer>()
    for (const tr of listed)
      if (typeof tr.reference === 'string' && tr.reference.startsWith(REFERENCE_PREFIX)) theirs.set(tr.reference, tr)
    // Ours: every payout Paystack lists, and every payout made well inside the window.
    const ours = await ctx
      .db('payouts')
      .where((q) =>
        q.whereIn('reference', [...theirs.keys()]).orWhere('created_at', '>=', new Date(from.getTime() + 3_600_000)),
      )
      .select('id', 'reference', 'amount', 'currency', 'status')
    const byReference = new Map(ours.map((p) => [p.reference, p]))

    for (const [reference, tr] of theirs) {
      const p = byReference.get(reference)
      const amount = amountOf(tr.amount)
      const status = String(tr.status)
      if (!p) {
        out.push({
          kind: 'transfer_unknown',
          ref: reference,
          detail:
            `Paystack holds a ${status} transfer of ${amount ?? tr.amount} ${tr.currency ?? ''} with Oja's reference ${reference}, which no payout has`.trim(),
        })
        continue
      }
      if (amount !== p.amount || (tr.currency && tr.currency !== p.currency))
        out.push({
          kind: 'transfer_amount_mismatch',
          ref: reference,
          detail:
            `payout ${p.id} is ${p.amount} ${p.currency}; Paystack's transfer is ${amount ?? tr.amount} ${tr.currency ?? ''}`.trim(),
        })
      if (!COMPATIBLE[p.status](status))
        out.push({
          kind: 'transfer_status_mismatch',
          ref: reference,
          detail: `payout ${p.id} is ${p.status}; Paystack says its transfer is ${status}`,
        })
    }
    for (const p of ours)
      if (!theirs.has(p.reference) && !COMPATIBLE[p.status](undefined))
        out.push({
          kind: 'transfer_missing',
          ref: p.reference,
          detail: `payout ${p.id} is ${p.status}, but Paystack lists no transfer with its reference`,
        })
    return out
  }
}
