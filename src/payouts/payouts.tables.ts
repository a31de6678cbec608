import type { Table } from '../db/index.js'

/** A seller's bank account for payouts: a Paystack transfer recipient. */
export type PayoutAccountRow = {
  seller_id: string
  bank_code: string
  bank_name: string
  account_name: string
  /** The full number: never in an answer, a log line or a mail. */
  account_number: string
  account_number_last4: string
  recipient_code: string
  currency: string
  verified_at: Date
  created_at: Date
  updated_at: Date
}

export type PayoutStatus = 'pending' | 'processing' | 'paid' | 'failed' | 'reversed'

/** One withdrawal of a seller's available money to their bank account. */
export type PayoutRow = {
  id: string
  seller_id: string
  amount: number
  currency: string
  status: PayoutStatus
  reference: string
  recipient_code: string
  bank_name: string
  account_number_last4: string
  transfer_code: string | null
  provider_status: string | null
  failure_reason: string | null
  last_error: string | null
  attempts: number
  next_attempt_at: Date
  lease_until: Date | null
  idempotency_key: string | null
  balance_alert_at: Date | null
  otp_alert_at: Date | null
  last_verified_at: Date | null
  paid_at: Date | null
  failed_at: Date | null
  reversed_at: Date | null
  created_at: Date
  updated_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    payout_accounts: Table<PayoutAccountRow, 'currency' | 'created_at' | 'updated_at'>
    payouts: Table<
      PayoutRow,
      | 'currency'
      | 'status'
      | 'transfer_code'
      | 'provider_status'
      | 'failure_reason'
      | 'last_error'
      | 'attempts'
      | 'next_attempt_at'
      | 'lease_until'
      | 'idempotency_key'
      | 'balance_alert_at'
      | 'otp_alert_at'
      | 'last_verified_at'
      | 'paid_at'
      | 'failed_at'
      | 'reversed_at'
      | 'created_at'
      | 'updated_at'
    >
  }
}
