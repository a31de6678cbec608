import type { Table } from '../db/index.js'

/** The ledger's accounts: the platform's own, and each seller's four buckets. */
export type Account =
  | 'paystack_clearing'
  | 'paystack_fees'
  | 'platform_fees'
  | 'vat_payable'
  | 'coupon_cost'
  | 'refunds_payable'
  | 'unmatched_receipts'
  | 'adjustments'
  | 'seller_pending'
  | 'seller_available'
  | 'seller_on_hold'
  | 'seller_in_transit'

export type SellerAccount = Extract<Account, `seller_${string}`>

/** What an entry records (API: the seller's ledger `type`). */
export type EntryType =
  | 'sale'
  | 'fee'
  | 'vat'
  | 'coupon'
  | 'paystack_fee'
  | 'capture'
  | 'release'
  | 'hold'
  | 'unhold'
  | 'refund'
  | 'refund_settled'
  | 'payout'
  | 'payout_returned'
  | 'adjustment'

/** One posting: a set of entries that sums to zero, written once per `dedupe_key`. */
export type JournalRow = {
  id: string
  kind: string
  dedupe_key: string
  memo: string | null
  actor_id: string | null
  created_at: Date
}

/** One entry: credit-positive (a seller's bucket grows with a positive amount). */
export type EntryRow = {
  id: string
  journal_id: string
  account: Account
  seller_id: string | null
  type: EntryType
  amount: number
  currency: string
  order_id: string | null
  shipment_id: string | null
  refund_id: string | null
  payout_id: string | null
  dispute_id: string | null
  created_at: Date
}

/** A seller's balances, kept by the database from the entries. */
export type SellerBalanceRow = {
  seller_id: string
  currency: string
  pending: number
  available: number
  on_hold: number
  in_transit: number
  updated_at: Date
}

export type EscrowState = 'pending' | 'on_hold' | 'released'

/** The money of one paid shipment. */
export type ShipmentMoneyRow = {
  shipment_id: string
  order_id: string
  seller_id: string
  currency: string
  gross: number
  fee: number
  vat: number
  share: number
  refunded_gross: number
  refunded_share: number
  refunded_fee: number
  refunded_vat: number
  state: EscrowState
  release_reason: string | null
  released_at: Date | null
  handover_code: string
  handover_failures: number
  created_at: Date
  updated_at: Date
}

/** One run of the daily ledger check. */
export type LedgerCheckRow = {
  id: string
  started_at: Date
  finished_at: Date | null
  balanced: boolean | null
  mismatches: { kind: string; ref: string; detail: string }[] | null
  error: string | null
}

/** The columns of shipment_money the database fills in. */
type ShipmentMoneyDefaulted =
  | 'currency'
  | 'refunded_gross'
  | 'refunded_share'
  | 'refunded_fee'
  | 'refunded_vat'
  | 'state'
  | 'release_reason'
  | 'released_at'
  | 'handover_failures'
  | 'created_at'
  | 'updated_at'

/** A new escrow row as capture writes it. */
export type NewShipmentMoney = Omit<ShipmentMoneyRow, Exclude<ShipmentMoneyDefaulted, 'currency'>>

declare module 'knex/types/tables.js' {
  interface Tables {
    ledger_checks: Table<LedgerCheckRow, 'id' | 'started_at' | 'finished_at' | 'balanced' | 'mismatches' | 'error'>
    ledger_journals: Table<JournalRow, 'id' | 'memo' | 'actor_id' | 'created_at'>
    ledger_entries: Table<
      EntryRow,
      | 'id'
      | 'seller_id'
      | 'currency'
      | 'order_id'
      | 'shipment_id'
      | 'refund_id'
      | 'payout_id'
      | 'dispute_id'
      | 'created_at'
    >
    seller_balances: Table<
      SellerBalanceRow,
      'currency' | 'pending' | 'available' | 'on_hold' | 'in_transit' | 'updated_at'
    >
    shipment_money: Table<ShipmentMoneyRow, ShipmentMoneyDefaulted>
  }
}
