import type { Db } from '../db/index.js'
import type { Account, EntryType } from './ledger.tables.js'

/** One line of a journal, before it is written. */
export type Entry = {
  account: Account
  /** Required on a seller's bucket, absent elsewhere. */
  sellerId?: string
  type: EntryType
  amount: number
  orderId?: string
  shipmentId?: string
  refundId?: string
  payoutId?: string
  disputeId?: string
}

export type Journal = {
  kind: string
  /** One journal per key: posting the same key twice writes nothing the second time. */
  key: string
  currency: string
  entries: Entry[]
  memo?: string
  actorId?: string | null
}

/**
 * Writes a journal in the caller's transaction: its entries must sum to zero (the database
 * checks it again at commit). Zero entries are left out. Returns false when a journal with
 * this key exists already (nothing is written), or when nothing is left to write.
 */
export async function postJournal(db: Db, journal: Journal): Promise<boolean> {
  const entries = journal.entries.filter((e) => e.amount !== 0)
  for (const e of entries)
    if (!Number.isSafeInteger(e.amount))
      throw new Error(`ledger: ${e.type} ${e.account} is not whole kobo: ${e.amount}`)
  const sum = entries.reduce((s, e) => s + e.amount, 0)
  if (sum !== 0) throw new Error(`ledger: journal ${journal.key} does not balance (off by ${sum})`)
  if (entries.length === 0) return false
  const [row] = await db('ledger_journals')
    .insert({
      kind: journal.kind,
      dedupe_key: journal.key,
      memo: journal.memo ?? null,
      actor_id: journal.actorId ?? null,
    })
    .onConflict('dedupe_key')
    .ignore()
    .returning('id')
  if (!row) return false
  await db('ledger_entries').insert(
    entries.map((e) => ({
      journal_id: row.id,
      account: e.account,
      seller_id: e.sellerId ?? null,
      type: e.type,
      amount: e.amount,
      currency: journal.currency,
      order_id: e.orderId ?? null,
      shipment_id: e.shipmentId ?? null,
      refund_id: e.refundId ?? null,
      payout_id: e.payoutId ?? null,
      dispute_id: e.disputeId ?? null,
    })),
  )
  return true
}
