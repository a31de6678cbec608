import { randomInt, randomUUID } from 'node:crypto'
import type { Db } from '../db/index.js'
import { postJournal, type Entry } from './journal.js'
import type { EscrowState, NewShipmentMoney, SellerAccount, ShipmentMoneyRow } from './ledger.tables.js'
import { apportionCapped, grossOfRefunded, reversedAt, sumSplits, type Rates, type Split } from './shares.js'

/** The bucket that holds a shipment's money in each escrow state. */
export const BUCKET_OF: Record<EscrowState, SellerAccount> = {
  pending: 'seller_pending',
  on_hold: 'seller_on_hold',
  released: 'seller_available',
}

/** What a captured payment's journal needs of its order. */
export type CapturedOrder = { id: string; total: number; currency: string }
/** A line of the order at order-time prices. */
export type CapturedLine = { shipmentId: string; sellerId: string; unitPrice: number; quantity: number }

/** A fresh 6-digit hand-over code (crypto-random, leading zeros kept). */
export function newHandoverCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0')
}

const splitOf = (m: ShipmentMoneyRow): Split => ({ gross: m.gross, fee: m.fee, vat: m.vat, share: m.share })

/**
 * Posts a confirmed payment, once per order. An honoured order: Paystack's clearing account
 * holds the total; each shipment's lines go to its seller's pending bucket, less the fee and
 * its VAT (per line, shares.ts); a coupon is the platform's cost; escrow rows are created. A
 * payment refused its goods (a late payment refunded): held as unmatched until its refund.
 * Paystack's fee, when known, is the platform's cost either way.
 */
export async function postCapture(
  db: Db,
  input: { order: CapturedOrder; lines: CapturedLine[]; honoured: boolean; paystackFee: number; rates: Rates },
): Promise<boolean> {
  const { order, lines, rates } = input
  const entries: Entry[] = [{ account: 'paystack_clearing', type: 'capture', amount: -order.total, orderId: order.id }]
  if (input.paystackFee > 0)
    entries.push(
      { account: 'paystack_clearing', type: 'paystack_fee', amount: input.paystackFee, orderId: order.id },
      { account: 'paystack_fees', type: 'paystack_fee', amount: -input.paystackFee, orderId: order.id },
    )
  const shipments = new Map<string, { sellerId: string; lines: number[] }>()
  if (input.honoured) {
    for (const l of lines) {
      const s = shipments.get(l.shipmentId) ?? { sellerId: l.sellerId, lines: [] }
      s.lines.push(l.unitPrice * l.quantity)
      shipments.set(l.shipmentId, s)
    }
  }
  let gross = 0
  const rows: NewShipmentMoney[] = []
  for (const [shipmentId, s] of shipments) {
    const split = sumSplits(s.lines, rates)
    if (split.gross === 0) continue
    gross += split.gross
    const at = { sellerId: s.sellerId, orderId: order.id, shipmentId }
    entries.push(
      { account: 'seller_pending', type: 'sale', amount: split.gross, ...at },
      { account: 'seller_pending', type: 'fee', amount: -split.fee, ...at },
      { account: 'seller_pending', type: 'vat', amount: -split.vat, ...at },
      { account: 'platform_fees', type: 'fee', amount: split.fee, orderId: order.id, shipmentId },
      { account: 'vat_payable', type: 'vat', amount: split.vat, orderId: order.id, shipmentId },
    )
    rows.push({
      shipment_id: shipmentId,
      order_id: order.id,
      seller_id: s.sellerId,
      currency: order.currency,
      gross: split.gross,
      fee: split.fee,
      vat: split.vat,
      share: split.share,
      handover_code: newHandoverCode(),
    })
  }
  if (input.honoured) {
    // The buyer paid `total` for lines worth `gross`: a coupon paid the rest.
    entries.push({ account: 'coupon_cost', type: 'coupon', amount: order.total - gross, orderId: order.id })
  } else {
    entries.push({ account: 'unmatched_receipts', type: 'capture', amount: order.total, orderId: order.id })
  }
  const posted = await postJournal(db, {
    kind: input.honoured ? 'sale' : 'capture_unmatched',
    key: `capture:${order.id}`,
    currency: order.currency,
    entries,
  })
  if (posted && rows.length > 0) await db('shipment_money').insert(rows)
  return posted
}

/** A refund of an order as the ledger needs it (from the refunds outbox). */
export type RefundState = {
  id: string
  amount: number
  status: 'pending' | 'processing' | 'processed' | 'failed' | 'cancelled'
  /** Set when the refund is for one shipment (a dispute's). */
  shipmentId: string | null
}

/** A refund counts against the order (it is owed to the buyer) unless it failed or was cancelled. */
const counts = (r: RefundState) => (r.status === 'failed' || r.status === 'cancelled' ? 0 : r.amount)
/** Paystack has taken it on (the money left the clearing account). */
const settles = (r: RefundState) => (r.status === 'processing' || r.status === 'processed' ? r.amount : 0)

/**
 * Brings the ledger in line with an order's refunds, in the caller's transaction with the
 * order locked: whatever changed since the last call (a refund asked for, cut, cancelled,
 * failed, or taken on by Paystack) is posted as the difference, so every refund path posts
 * its journal by calling this once. What is owed to the buyer is taken back from the sale:
 * a shipment's own refunds from that shipment, the rest from all shipments in proportion to
 * their gross (none beyond what is left of it), each from the bucket that holds its money now (pending, on hold, or
 * available, which may go below zero); a coupon's part returns to the coupon's cost.
 */
export async function syncRefunds(db: Db, order: CapturedOrder, refunds: RefundState[]): Promise<void> {
  const posted = await db('ledger_entries')
    .where({ order_id: order.id, account: 'refunds_payable' })
    .whereNotNull('refund_id')
    .groupBy('refund_id', 'type')
    .select<{ refund_id: string; type: string; sum: number }[]>(
      'refund_id',
      'type',
      db.raw('sum(amount)::bigint as sum'),
    )
  const postedOf = (id: string, type: string) =>
    Number(posted.find((p) => p.refund_id === id && p.type === type)?.sum ?? 0)

  const owed: Entry[] = []
  const settled: Entry[] = []
  let owedDelta = 0
  for (const r of refunds) {
    const d = counts(r) - postedOf(r.id, 'refund')
    if (d !== 0) owed.push({ account: 'refunds_payable', type: 'refund', amount: d, orderId: order.id, refundId: r.id })
    owedDelta += d
    // Owed entries are credits (+); settling one debits it (−) and credits clearing.
    const s = settles(r) + postedOf(r.id, 'refund_settled')
    if (s !== 0)
      settled.push(
        { account: 'refunds_payable', type: 'refund_settled', amount: -s, orderId: order.id, refundId: r.id },
        { account: 'paystack_clearing', type: 'refund_settled', amount: s, orderId: order.id, refundId: r.id },
      )
  }
  const only = owed.length === 1 ? owed[0]!.refundId : undefined
  const entries: Entry[] = [...owed]
  if (owedDelta !== 0) {
    const money = await db('shipment_money').where('order_id', order.id).orderBy('shipment_id').forUpdate()
    if (money.length === 0) {
      // A payment that was never given goods: its refund comes out of the unmatched receipts.
      entries.push({ account: 'unmatched_receipts', type: 'refund', amount: -owedDelta, orderId: order.id })
    } else {
      entries.push(...(await reverseSales(db, order, money, refunds, only, owedDelta)))
    }
  }
  entries.push(...settled)
  if (entries.length === 0) return
  await postJournal(db, {
    kind: 'refund',
    // The sync is idempotent by its differences, not by its key: each posting has its own
    // (counting an order's earlier postings would scan the journals on every refund).
    key: `refund:${order.id}:${randomUUID()}`,
    currency: order.currency,
    entries,
  })
}

/** The sale entries that give back what the order's counted refunds stand for now, as differences. */
async function reverseSales(
  db: Db,
  order: CapturedOrder,
  money: ShipmentMoneyRow[],
  refunds: RefundState[],
  refundId: string | undefined,
  owedDelta: number,
): Promise<Entry[]> {
  const gross = money.reduce((s, m) => s + m.gross, 0)
  const counted = refunds.reduce((s, r) => s + counts(r), 0)
  const wanted = grossOfRefunded(counted, order.total, gross)
  // A shipment's own refunds first, then the rest spread over what is left of each shipment.
  const targeted = money.map((m) =>
    Math.min(
      m.gross,
      grossOfRefunded(
        refunds.filter((r) => r.shipmentId === m.shipment_id).reduce((s, r) => s + counts(r), 0),
        order.total,
        gross,
      ),
    ),
  )
  // Spread in proportion to each shipment's gross (not to what is left of it), so a later
  // dispute refund of one shipment does not shift an earlier order-wide refund onto the others.
  const spread = apportionCapped(
    Math.max(0, wanted - targeted.reduce((s, x) => s + x, 0)),
    money.map((m) => m.gross),
    money.map((m, i) => m.gross - targeted[i]!),
  )
  const entries: Entry[] = []
  let grossDelta = 0
  for (const [i, m] of money.entries()) {
    const target = reversedAt(splitOf(m), targeted[i]! + spread[i]!)
    const d = {
      gross: target.gross - m.refunded_gross,
      share: target.share - m.refunded_share,
      fee: target.fee - m.refunded_fee,
      vat: target.vat - m.refunded_vat,
    }
    if (d.gross === 0 && d.share === 0 && d.fee === 0 && d.vat === 0) continue
    grossDelta += d.gross
    const at = { orderId: order.id, shipmentId: m.shipment_id, ...(refundId ? { refundId } : {}) }
    entries.push(
      { account: BUCKET_OF[m.state], sellerId: m.seller_id, type: 'refund', amount: -d.share, ...at },
      { account: 'platform_fees', type: 'refund', amount: -d.fee, ...at },
      { account: 'vat_payable', type: 'refund', amount: -d.vat, ...at },
    )
    await db('shipment_money').where('shipment_id', m.shipment_id).update({
      refunded_gross: target.gross,
      refunded_share: target.share,
      refunded_fee: target.fee,
      refunded_vat: target.vat,
      updated_at: db.fn.now(),
    })
  }
  // What the lines gave back beyond what the buyer gets back was the coupon's: its cost shrinks.
  entries.push({ account: 'coupon_cost', type: 'coupon', amount: grossDelta - owedDelta, orderId: order.id })
  return entries
}

/** What a shipment's seller still has of its share (after refunds). */
export const remainingShare = (m: ShipmentMoneyRow): number => m.share - m.refunded_share

/**
 * Moves a shipment's money from one escrow state to another, once per key, in the caller's
 * transaction: `release` pending → available, `hold` pending → on hold (a dispute), `unhold`
 * on hold → pending. Returns the row as it was, and the amount moved; undefined when the
 * shipment has no money in the `from` state.
 */
export async function moveEscrow(
  db: Db,
  input: {
    shipmentId: string
    from: EscrowState
    to: EscrowState
    type: 'release' | 'hold' | 'unhold'
    key: string
    reason?: string
    disputeId?: string
    actorId?: string | null
  },
): Promise<{ money: ShipmentMoneyRow; amount: number } | undefined> {
  const money = await db('shipment_money').where('shipment_id', input.shipmentId).forUpdate().first()
  if (!money || money.state !== input.from) return undefined
  const amount = remainingShare(money)
  const at = {
    sellerId: money.seller_id,
    orderId: money.order_id,
    shipmentId: money.shipment_id,
    ...(input.disputeId ? { disputeId: input.disputeId } : {}),
  }
  await postJournal(db, {
    kind: input.type,
    key: input.key,
    currency: money.currency,
    actorId: input.actorId ?? null,
    ...(input.reason ? { memo: input.reason } : {}),
    entries: [
      { account: BUCKET_OF[input.from], type: input.type, amount: -amount, ...at },
      { account: BUCKET_OF[input.to], type: input.type, amount, ...at },
    ],
  })
  await db('shipment_money')
    .where('shipment_id', input.shipmentId)
    .update({
      state: input.to,
      ...(input.to === 'released' ? { released_at: db.fn.now(), release_reason: input.reason ?? input.type } : {}),
      updated_at: db.fn.now(),
    })
  return { money, amount }
}

/** The hand-over codes of shipments in escrow (only their buyer may see them). */
export async function handoverCodesOf(db: Db, shipmentIds: string[]): Promise<Map<string, string>> {
  if (shipmentIds.length === 0) return new Map()
  const rows = await db('shipment_money').whereIn('shipment_id', shipmentIds).select('shipment_id', 'handover_code')
  return new Map(rows.map((r) => [r.shipment_id, r.handover_code]))
}

/**
 * Releases many shipments' money at once (the sweeper's batches), set-based: the rows still
 * in escrow are locked, one journal per shipment (`release:<shipment>`, the same key as a
 * single release, so each happens once whichever path gets there first) and its two entries
 * are written in three statements, and the rows marked released. Returns what moved.
 */
export async function releaseMany(
  db: Db,
  shipmentIds: string[],
  reason: string,
): Promise<{ shipmentId: string; orderId: string; sellerId: string; currency: string; amount: number }[]> {
  if (shipmentIds.length === 0) return []
  const { rows } = await db.raw<{
    rows: { shipment_id: string; order_id: string; seller_id: string; currency: string; amount: number }[]
  }>(
    `with due as (
       select shipment_id, order_id, seller_id, currency, share - refunded_share as amount
         from shipment_money where shipment_id = any(:ids::uuid[]) and state = 'pending'
        order by shipment_id for update),
     journals as (
       insert into ledger_journals (kind, dedupe_key, memo)
       select 'release', 'release:' || shipment_id, :reason from due where amount > 0
       on conflict (dedupe_key) do nothing
       returning id, dedupe_key),
     entries as (
       insert into ledger_entries (journal_id, account, seller_id, type, amount, currency, order_id, shipment_id)
       select j.id, a.account, due.seller_id, 'release', a.sign * due.amount, due.currency, due.order_id, due.shipment_id
         from due join journals j on j.dedupe_key = 'release:' || due.shipment_id
        cross join (values ('seller_pending', -1), ('seller_available', 1)) as a(account, sign)),
     moved as (
       update shipment_money m set state = 'released', released_at = now(), release_reason = :reason, updated_at = now()
         from due where m.shipment_id = due.shipment_id
       returning m.shipment_id)
     select due.* from due join moved using (shipment_id)`,
    { ids: shipmentIds, reason },
  )
  return rows.map((r) => ({
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    sellerId: r.seller_id,
    currency: r.currency,
    amount: r.amount,
  }))
}
