import type { Table } from '../db/index.js'

export type DisputeReason = 'not_received' | 'not_as_described' | 'damaged' | 'other'
export type DisputeStatus = 'open' | 'resolved'
export type DisputeOutcome = 'release' | 'refund' | 'split'
export type DisputeRole = 'buyer' | 'seller' | 'admin'

/** A buyer's complaint about one paid shipment; its money is on hold while it is open. */
export type DisputeRow = {
  id: string
  shipment_id: string
  order_id: string
  buyer_id: string
  seller_id: string
  reason: DisputeReason
  detail: string
  status: DisputeStatus
  outcome: DisputeOutcome | null
  /** Kobo refunded to the buyer by the decision (refund, split); null for release or while open. */
  refund_amount: number | null
  refund_id: string | null
  resolved_by: string | null
  resolution_note: string | null
  created_at: Date
  resolved_at: Date | null
}

/** A message of a dispute's thread. */
export type DisputeMessageRow = {
  id: string
  dispute_id: string
  author_id: string
  author_role: DisputeRole
  body: string
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    disputes: Table<
      DisputeRow,
      | 'id'
      | 'status'
      | 'outcome'
      | 'refund_amount'
      | 'refund_id'
      | 'resolved_by'
      | 'resolution_note'
      | 'created_at'
      | 'resolved_at'
    >
    dispute_messages: Table<DisputeMessageRow, 'id' | 'created_at'>
  }
}
