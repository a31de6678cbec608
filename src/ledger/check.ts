import type { Db } from '../db/index.js'

/** One disagreement the check found, in words an admin can act on. */
export type Mismatch = { kind: string; ref: string; detail: string }

type Row = Record<string, string | number | null>

/**
 * The ledger against itself and against Oja's own records (the check of
 * `GET /v1/admin/ledger/check`, run by the suite after its money tests):
 * - every journal, and the whole ledger, sums to zero;
 * - every seller's cached balances equal their entries;
 * - every paid shipment's escrow row equals its entries, and its money sits only in the
 *   bucket its state names;
 * - every successful payment was captured once for its amount, and nothing else was;
 * - what each refund owes the buyer and what Paystack has taken on equal the refund's row.
 */
export async function checkLedger(db: Db): Promise<Mismatch[]> {
  const out: Mismatch[] = []
  const q = async (sql: string): Promise<Row[]> => (await db.raw<{ rows: Row[] }>(sql)).rows

  for (const r of await q(`select journal_id, currency, sum(amount)::bigint as off from ledger_entries
                           group by journal_id, currency having sum(amount) <> 0`))
    out.push({
      kind: 'journal_unbalanced',
      ref: String(r.journal_id),
      detail: `journal ${r.journal_id} is off by ${r.off} ${r.currency}`,
    })
  for (const r of await q(
    `select currency, sum(amount)::bigint as off from ledger_entries group by currency having sum(amount) <> 0`,
  ))
    out.push({
      kind: 'ledger_unbalanced',
      ref: String(r.currency),
      detail: `the ledger is off by ${r.off} ${r.currency}`,
    })

  for (const r of await q(`
      with sums as (
        select seller_id, currency,
               coalesce(sum(amount) filter (where account = 'seller_pending'), 0)::bigint as pending,
               coalesce(sum(amount) filter (where account = 'seller_available'), 0)::bigint as available,
               coalesce(sum(amount) filter (where account = 'seller_on_hold'), 0)::bigint as on_hold,
               coalesce(sum(amount) filter (where account = 'seller_in_transit'), 0)::bigint as in_transit
          from ledger_entries where seller_id is not null group by seller_id, currency)
      select coalesce(b.seller_id, s.seller_id) as seller_id, coalesce(b.currency, s.currency) as currency,
             b.pending as b_pending, s.pending, b.available as b_available, s.available,
             b.on_hold as b_on_hold, s.on_hold, b.in_transit as b_in_transit, s.in_transit
        from seller_balances b full join sums s on s.seller_id = b.seller_id and s.currency = b.currency
       where coalesce(b.pending, 0) <> coalesce(s.pending, 0) or coalesce(b.available, 0) <> coalesce(s.available, 0)
          or coalesce(b.on_hold, 0) <> coalesce(s.on_hold, 0) or coalesce(b.in_transit, 0) <> coalesce(s.in_transit, 0)`))
    out.push({
      kind: 'balance_mismatch',
      ref: String(r.seller_id),
      detail: `seller ${r.seller_id}: cached pending/available/on_hold/in_transit ${r.b_pending}/${r.b_available}/${r.b_on_hold}/${r.b_in_transit}, entries say ${r.pending}/${r.available}/${r.on_hold}/${r.in_transit}`,
    })

  for (const r of await q(`
      with e as (
        select shipment_id,
               coalesce(sum(amount) filter (where account like 'seller_%'), 0)::bigint as seller,
               coalesce(sum(amount) filter (where account = 'seller_pending'), 0)::bigint as pending,
               coalesce(sum(amount) filter (where account = 'seller_on_hold'), 0)::bigint as on_hold,
               coalesce(sum(amount) filter (where account = 'seller_available'), 0)::bigint as available,
               coalesce(sum(amount) filter (where account = 'platform_fees'), 0)::bigint as fee,
               coalesce(sum(amount) filter (where account = 'vat_payable'), 0)::bigint as vat
          from ledger_entries where shipment_id is not null group by shipment_id)
      select m.shipment_id, m.state, m.share - m.refunded_share as share, m.fee - m.refunded_fee as fee,
             m.vat - m.refunded_vat as vat, e.seller, e.pending, e.on_hold, e.available, e.fee as e_fee, e.vat as e_vat
        from shipment_money m left join e on e.shipment_id = m.shipment_id
       where coalesce(e.seller, 0) <> m.share - m.refunded_share
          or coalesce(e.fee, 0) <> m.fee - m.refunded_fee
          or coalesce(e.vat, 0) <> m.vat - m.refunded_vat
          or (m.state = 'pending' and (coalesce(e.on_hold, 0) <> 0 or coalesce(e.available, 0) <> 0))
          or (m.state = 'on_hold' and (coalesce(e.pending, 0) <> 0 or coalesce(e.available, 0) <> 0))
          or (m.state = 'released' and (coalesce(e.pending, 0) <> 0 or coalesce(e.on_hold, 0) <> 0))`))
    out.push({
      kind: 'escrow_mismatch',
      ref: String(r.shipment_id),
      detail: `shipment ${r.shipment_id} (${r.state}): share/fee/vat ${r.share}/${r.fee}/${r.vat}, entries ${r.seller}/${r.e_fee}/${r.e_vat} (pending ${r.pending}, on hold ${r.on_hold}, available ${r.available})`,
    })

  for (const r of await q(`
      with c as (
        select order_id, -sum(amount)::bigint as captured from ledger_entries
         where account = 'paystack_clearing' and type = 'capture' group by order_id)
      select coalesce(p.order_id, c.order_id) as order_id, p.amount, c.captured
        from (select * from payments where status = 'success') p full join c on c.order_id = p.order_id
       where coalesce(p.amount, 0) <> coalesce(c.captured, 0)`))
    out.push({
      kind: 'capture_mismatch',
      ref: String(r.order_id),
      detail: `order ${r.order_id}: Paystack confirmed ${r.amount ?? 0}, the ledger captured ${r.captured ?? 0}`,
    })

  for (const r of await q(`
      with e as (
        select refund_id,
               coalesce(sum(amount) filter (where type = 'refund'), 0)::bigint as owed,
               coalesce(-sum(amount) filter (where type = 'refund_settled'), 0)::bigint as settled
          from ledger_entries where account = 'refunds_payable' and refund_id is not null group by refund_id)
      select r.id, r.status, r.amount, e.owed, e.settled from refunds r left join e on e.refund_id = r.id
       where coalesce(e.owed, 0) <> case when r.status in ('failed', 'cancelled') then 0 else r.amount end
          or coalesce(e.settled, 0) <> case when r.status in ('processing', 'processed') then r.amount else 0 end`))
    out.push({
      kind: 'refund_mismatch',
      ref: String(r.id),
      detail: `refund ${r.id} (${r.status}, ${r.amount}): the ledger owes ${r.owed ?? 0} and settled ${r.settled ?? 0}`,
    })
  return out
}
