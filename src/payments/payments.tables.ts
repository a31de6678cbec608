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
  /** Verifications in a row that could not reach Paystack; reset by any answer. */
  verify_attempts: number
  /** When a verification that could not reach Paystack is due again (back-off). */
  next_verify_at: Date | null
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
  origin: 'admin' | 'buyer_cancel' | 'late_payment' | 'provider' | 'dispute'
  /** Set when the refund is for one shipment (a dispute's). */
  shipment_id: string | null
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
  /** When the sweeper processes it (again): 30 s after receipt, then backing off after each failure. */
  next_attempt_at: Date
  /** Set when retries ran past Paystack's 72 h horizon and the event was raised to admins. */
  gave_up_at: Date | null
}

/** Why a payment is unsettled: what a reconciliation or a confirmation could not heal. */
export type UnsettledKind = 'amount_mismatch' | 'unconfirmed' | 'unknown_transaction' | 'balance_mismatch'

/** A payment Oja could not settle by itself, listed for admins until Paystack and Oja agree. */
export type UnsettledPaymentRow = {
  id: string
  reference: string
  order_id: string | null
  kind: UnsettledKind
  paystack_amount: number | null
  oja_amount: number | null
  currency: string | null
  detail: string
  first_seen_at: Date
  last_seen_at: Date
  resolved_at: Date | null
}

/** One run of the reconciliation against Paystack's lists. */
export type PaymentReconciliationRow = {
  id: string
  started_at: Date
  finished_at: Date | null
  window_from: Date
  window_to: Date
  transactions: number
  refunds: number
  healed: number
  unsettled: number
  error: string | null
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
      | 'verify_attempts'
      | 'next_verify_at'
      | 'created_at'
      | 'updated_at'
    >
    refunds: Table<
      RefundRow,
      | 'id'
      | 'shipment_id'
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
      | 'id'
      | 'provider'
      | 'reference'
      | 'received_at'
      | 'processed_at'
      | 'attempts'
      | 'last_error'
      | 'next_attempt_at'
      | 'gave_up_at'
    >
    unsettled_payments: Table<
      UnsettledPaymentRow,
      | 'id'
      | 'order_id'
      | 'paystack_amount'
      | 'oja_amount'
      | 'currency'
      | 'first_seen_at'
      | 'last_seen_at'
      | 'resolved_at'
    >
    payment_reconciliations: Table<
      PaymentReconciliationRow,
      'id' | 'started_at' | 'finished_at' | 'transactions' | 'refunds' | 'healed' | 'unsettled' | 'error'
    >
  }
}
