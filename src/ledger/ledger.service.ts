import { timingSafeEqual } from 'node:crypto'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import {
  moveEscrow,
  postCapture,
  releaseMany,
  syncRefunds,
  type CapturedLine,
  type CapturedOrder,
  type RefundState,
} from './escrow.js'
import { checkLedger, type Mismatch } from './check.js'
import { postJournal } from './journal.js'
import type { EntryRow } from './ledger.tables.js'
import type { Rates } from './shares.js'

/** Wrong hand-over codes before a shipment's code locks. */
export const HANDOVER_TRIES = 5

/** Why a shipment's money was released. */
export type ReleaseReason = 'received' | 'handover' | 'timeout' | 'dispute'

/** A payout as the ledger needs it. */
export type PayoutMoney = { id: string; sellerId: string; amount: number; currency: string }

export type Balance = {
  currency: string
  pending: number
  available: number
  onHold: number
  inTransit: number
  paidOut: number
}

/** A seller's ledger entry as the API shows it. */
export type LedgerEntryView = {
  id: string
  type: EntryRow['type']
  bucket: 'pending' | 'available' | 'on_hold' | 'in_transit'
  amount: number
  currency: string
  orderId: string | null
  shipmentId: string | null
  payoutId: string | null
  disputeId: string | null
  createdAt: string
}

export type LedgerDeps = { spine: EventSpine; rates: Rates; escrowReleaseDays: number }

/** A check of the ledger against the outside world (Paystack's lists), added by the feature that knows it. */
export type LedgerCheckPart = (ctx: Ctx) => Promise<Mismatch[]>

/**
 * Seller money over the ledger: what a payment, a refund, a release, a dispute and a payout
 * post; what a seller sees. Every function that writes runs in the caller's transaction.
 */
export function createLedger(deps: LedgerDeps) {
  const { spine, rates } = deps

  /** A confirmed payment (once per order): see postCapture. */
  function capture(
    tx: { db: Db },
    input: { order: CapturedOrder; lines: CapturedLine[]; honoured: boolean; paystackFee: number },
  ): Promise<boolean> {
    return postCapture(tx.db, { ...input, rates })
  }

  /** An order's refunds as they stand now (see syncRefunds); the order must be locked. */
  function refundsChanged(tx: { db: Db }, order: CapturedOrder, refunds: RefundState[]): Promise<void> {
    return syncRefunds(tx.db, order, refunds)
  }

  /**
   * Releases a shipment's money from escrow to its seller's available balance, once: not
   * while a dispute holds it, not twice. Notifies the seller (`funds_released`). Returns the
   * amount released, or undefined when nothing was in escrow.
   */
  async function release(
    tx: TxCtx,
    shipmentId: string,
    reason: ReleaseReason,
    actorId: string | null,
    disputeId?: string,
  ): Promise<number | undefined> {
    const moved = await moveEscrow(tx.db, {
      shipmentId,
      from: 'pending',
      to: 'released',
      type: 'release',
      key: `release:${shipmentId}`,
      reason,
      actorId,
      ...(disputeId ? { disputeId } : {}),
    })
    if (!moved) return undefined
    if (moved.amount > 0)
      await spine.notify(tx, [moved.money.seller_id], 'funds_released', {
        shipmentId,
        orderId: moved.money.order_id,
        amount: moved.amount,
        currency: moved.money.currency,
        reason,
      })
    return moved.amount
  }

  /** A dispute holds the shipment's money (pending → on hold). False when it is not in escrow (released). */
  async function hold(tx: TxCtx, shipmentId: string, disputeId: string, actorId: string): Promise<boolean> {
    const money = await tx.db('shipment_money').where('shipment_id', shipmentId).forUpdate().first('state')
    if (!money) return false
    if (money.state === 'on_hold') return true
    return !!(await moveEscrow(tx.db, {
      shipmentId,
      from: 'pending',
      to: 'on_hold',
      type: 'hold',
      key: `hold:${disputeId}`,
      disputeId,
      actorId,
    }))
  }

  /** A resolved dispute lets go of the shipment's money (on hold → pending). */
  async function unhold(tx: TxCtx, shipmentId: string, disputeId: string, actorId: string | null): Promise<void> {
    await moveEscrow(tx.db, {
      shipmentId,
      from: 'on_hold',
      to: 'pending',
      type: 'unhold',
      key: `unhold:${disputeId}`,
      disputeId,
      actorId,
    })
  }

  /** Where a shipment's money is (pending, on hold, released), and its hand-over code. */
  function escrowOf(db: Db, shipmentId: string) {
    return db('shipment_money').where('shipment_id', shipmentId).first()
  }

  /** The escrow rows of every paid shipment of an order (a dispute measures its refund against them). */
  function escrowOfOrder(db: Db, orderId: string) {
    return db('shipment_money').where('order_id', orderId).orderBy('shipment_id')
  }

  /**
   * Checks a hand-over code for a shipment in escrow, in the caller's transaction: `ok`, or
   * `wrong` (the try is counted), or `locked` after 5 wrong tries (every try after that too),
   * or `none` when the shipment has no money in escrow. The comparison takes constant time.
   */
  async function handoverAttempt(
    db: Db,
    shipmentId: string,
    code: string,
  ): Promise<'ok' | 'wrong' | 'locked' | 'none'> {
    const money = await db('shipment_money').where('shipment_id', shipmentId).forUpdate().first()
    if (!money) return 'none'
    if (money.handover_failures >= HANDOVER_TRIES) return 'locked'
    const given = Buffer.from(code.padEnd(6, ' ').slice(0, 6))
    if (code.length === 6 && timingSafeEqual(given, Buffer.from(money.handover_code))) return 'ok'
    const failures = money.handover_failures + 1
    await db('shipment_money')
      .where('shipment_id', shipmentId)
      .update({ handover_failures: failures, updated_at: db.fn.now() })
    return failures >= HANDOVER_TRIES ? 'locked' : 'wrong'
  }

  /** A payout leaves the seller's available balance for in-transit (once). */
  function payoutStarted(tx: { db: Db }, p: PayoutMoney): Promise<boolean> {
    const at = { sellerId: p.sellerId, payoutId: p.id }
    return postJournal(tx.db, {
      kind: 'payout',
      key: `payout:${p.id}:start`,
      currency: p.currency,
      entries: [
        { account: 'seller_available', type: 'payout', amount: -p.amount, ...at },
        { account: 'seller_in_transit', type: 'payout', amount: p.amount, ...at },
      ],
    })
  }

  /** Paystack paid it: the money leaves in-transit and Paystack's balance (once). */
  function payoutPaid(tx: { db: Db }, p: PayoutMoney): Promise<boolean> {
    return postJournal(tx.db, {
      kind: 'payout_paid',
      key: `payout:${p.id}:paid`,
      currency: p.currency,
      entries: [
        { account: 'seller_in_transit', sellerId: p.sellerId, type: 'payout', amount: -p.amount, payoutId: p.id },
        { account: 'paystack_clearing', type: 'payout', amount: p.amount, payoutId: p.id },
      ],
    })
  }

  /**
   * The payout failed or was reversed: its money returns to available (once). From in-transit
   * when it had not been paid; when Paystack reverses a paid one, the money is back in
   * Paystack's balance.
   */
  function payoutReturned(tx: { db: Db }, p: PayoutMoney, wasPaid: boolean): Promise<boolean> {
    const back = {
      account: 'seller_available' as const,
      sellerId: p.sellerId,
      type: 'payout_returned' as const,
      amount: p.amount,
      payoutId: p.id,
    }
    return postJournal(tx.db, {
      kind: wasPaid ? 'payout_reversed' : 'payout_returned',
      key: `payout:${p.id}:returned`,
      currency: p.currency,
      entries: wasPaid
        ? [back, { account: 'paystack_clearing', type: 'payout_returned', amount: -p.amount, payoutId: p.id }]
        : [
            back,
            {
              account: 'seller_in_transit',
              sellerId: p.sellerId,
              type: 'payout_returned',
              amount: -p.amount,
              payoutId: p.id,
            },
          ],
    })
  }

  /** An admin's correction of a seller's available balance, with a note (the platform bears it). */
  function adjust(
    tx: TxCtx,
    input: { sellerId: string; amount: number; currency: string; note: string; key: string; actorId: string },
  ) {
    return postJournal(tx.db, {
      kind: 'adjustment',
      key: input.key,
      currency: input.currency,
      memo: input.note,
      actorId: input.actorId,
      entries: [
        { account: 'seller_available', sellerId: input.sellerId, type: 'adjustment', amount: input.amount },
        { account: 'adjustments', type: 'adjustment', amount: -input.amount },
      ],
    })
  }

  /** A seller's balances (zero when they never sold). `paidOut`: payouts Paystack paid, less reversals. */
  async function balance(db: Db, sellerId: string, currency = 'NGN'): Promise<Balance> {
    const row = await db('seller_balances').where({ seller_id: sellerId, currency }).first()
    const { rows } = await db.raw<{ rows: { paid_out: number | null }[] }>(
      `select (coalesce(sum(-e.amount) filter (where e.account = 'seller_in_transit' and e.type = 'payout' and e.amount < 0), 0)
             - coalesce(sum(e.amount) filter (where j.kind = 'payout_reversed' and e.account = 'seller_available'), 0))::bigint as paid_out
         from ledger_entries e join ledger_journals j on j.id = e.journal_id
        where e.seller_id = :sellerId and e.currency = :currency and e.payout_id is not null`,
      { sellerId, currency },
    )
    return {
      currency,
      pending: row?.pending ?? 0,
      available: row?.available ?? 0,
      onHold: row?.on_hold ?? 0,
      inTransit: row?.in_transit ?? 0,
      paidOut: Number(rows[0]?.paid_out ?? 0),
    }
  }

  /** A seller's entries, newest first, keyset-paged by id. */
  async function entries(ctx: Ctx, sellerId: string, q: { limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20
    const after = decodeCursor(q.cursor, 1, 'ledger') as [string] | undefined
    const query = ctx.db('ledger_entries').where('seller_id', sellerId)
    if (after) query.where('id', '<', after[0])
    const rows = await query.orderBy('id', 'desc').limit(limit + 1)
    const page = pageOf(rows, limit, (r) => [String(r.id)], 'ledger')
    return {
      items: page.items.map((e): LedgerEntryView => ({
        id: String(e.id),
        type: e.type,
        bucket: e.account.slice('seller_'.length) as LedgerEntryView['bucket'],
        amount: e.amount,
        currency: e.currency,
        orderId: e.order_id,
        shipmentId: e.shipment_id,
        payoutId: e.payout_id,
        disputeId: e.dispute_id,
        createdAt: e.created_at.toISOString(),
      })),
      nextCursor: page.nextCursor,
    }
  }

  /**
   * Shipments whose money is due for release without the buyer: delivered more than
   * ESCROW_RELEASE_DAYS ago, still in escrow (a dispute holds it otherwise), not received.
   */
  async function dueForRelease(db: Db, limit: number): Promise<string[]> {
    const { rows } = await db.raw<{ rows: { shipment_id: string }[] }>(
      `select m.shipment_id
         from shipment_money m join shipments s on s.id = m.shipment_id
        where m.state = 'pending' and s.status = 'delivered'
          and s.delivered_at <= now() - (:days * interval '1 day')
        order by s.delivered_at, m.shipment_id
        limit :limit`,
      { days: deps.escrowReleaseDays, limit },
    )
    return rows.map((r) => r.shipment_id)
  }

  /**
   * Releases the given shipments' money (timeout), set-based in transactions of 500
   * (releaseMany), each seller told per shipment (`funds_released`). Returns how many moved.
   */
  async function releaseDue(ctx: Ctx, shipmentIds: string[]): Promise<number> {
    let released = 0
    for (let i = 0; i < shipmentIds.length; i += 500) {
      const chunk = shipmentIds.slice(i, i + 500)
      released += await spine.transaction(ctx, async (tx) => {
        const moved = await releaseMany(tx.db, chunk, 'timeout')
        const told = moved.filter((m) => m.amount > 0)
        if (told.length > 0)
          await spine.notify(
            tx,
            tx.db.raw('select user_id, data from jsonb_to_recordset(?::jsonb) as x(user_id uuid, data jsonb)', [
              JSON.stringify(
                told.map((m) => ({
                  user_id: m.sellerId,
                  data: {
                    shipmentId: m.shipmentId,
                    orderId: m.orderId,
                    amount: m.amount,
                    currency: m.currency,
                    reason: 'timeout',
                  },
                })),
              ),
            ]),
            'funds_released',
            'per row',
          )
        return moved.length
      })
    }
    return released
  }

  const checkParts: LedgerCheckPart[] = []

  /** Adds a part to the ledger check, at start-up (payments: charges and refunds; payouts: transfers). */
  function addCheck(part: LedgerCheckPart): void {
    checkParts.push(part)
  }

  /**
   * The whole check (`GET /v1/admin/ledger/check`, and the suite after every money test): the
   * ledger against itself and Oja's records (check.ts), then every added part.
   */
  async function check(ctx: Ctx): Promise<Mismatch[]> {
    const out = await checkLedger(ctx.db)
    for (const part of checkParts) out.push(...(await part(ctx)))
    return out
  }

  return {
    addCheck,
    check,
    capture,
    refundsChanged,
    release,
    hold,
    unhold,
    escrowOf,
    escrowOfOrder,
    handoverAttempt,
    payoutStarted,
    payoutPaid,
    payoutReturned,
    adjust,
    balance,
    entries,
    dueForRelease,
    releaseDue,
  }
}

export type Ledger = ReturnType<typeof createLedger>
