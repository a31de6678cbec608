import type { Table } from '../db/index.js'

/** The Paystack payment of an order (at most one per order). */
export type PaymentRow = {
  id: string
  order_id: string
  provider: string
  reference: string
  amount: number
  currency: string
  status: 'initializing' | 'pending' | 'success' | 'failed' | 'expired'
  authorization_url: string | null
  access_code: string | null
  provider_transaction_id: number | null
  gateway_response: string | null
  paid_at: Date | null
  last_verified_at: Date | null
  last_error: string | null
  created_at: Date
  updated_at: Date
}

/** A refund: an outbox row written with the change that causes it, then sent to Paystack. */
export type RefundRow = {
  id: string
  order_id: string
  payment_id: string
  amount: number
  currency: string
  reason: string
  origin: 'admin' | 'buyer_cancel' | 'late_payment' | 'provider'
  /** `cancelled`: queued here, then nothing was left to refund (Paystack had refunded the rest otherwise). */
  status: 'pending' | 'processing' | 'processed' | 'failed' | 'cancelled'
  provider_refund_id: number | null
  attempts: number
  next_attempt_at: Date
  last_error: string | null
  requested_by: string | null
  processed_at: Date | null
  created_at: Date
  updated_at: Date
}

/** An accepted provider webhook, stored once (deduplicated) and processed after the answer. */
export type PaymentEventRow = {
  id: string
  provider: string
  dedupe_key: string
  event: string
  reference: string | null
  payload: { event: string; data: Record<string, unknown> }
  received_at: Date
  processed_at: Date | null
  attempts: number
  last_error: string | null
}

declare module 'knex/types/tables.js' {
  interface Tables {
    payments: Table<
      PaymentRow,
      | 'id'
      | 'provider'
      | 'status'
      | 'authorization_url'
      | 'access_code'
      | 'provider_transaction_id'
      | 'gateway_response'
      | 'paid_at'
      | 'last_verified_at'
      | 'last_error'
      | 'created_at'
      | 'updated_at'
    >
    refunds: Table<
      RefundRow,
      | 'id'
      | 'status'
      | 'provider_refund_id'
      | 'attempts'
      | 'next_attempt_at'
      | 'last_error'
      | 'requested_by'
      | 'processed_at'
      | 'created_at'
      | 'updated_at'
    >
    payment_events: Table<
      PaymentEventRow,
      'id' | 'provider' | 'reference' | 'received_at' | 'processed_at' | 'attempts' | 'last_error'
    >
  }
}
