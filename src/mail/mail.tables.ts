import type { Table } from '../db/index.js'

/** A mail waiting to be sent (or sent, or given up on): written in the transaction that causes it. */
export type MailOutboxRow = {
  id: string
  to_address: string
  subject: string
  text_body: string
  html_body: string | null
  status: 'pending' | 'sent' | 'failed'
  attempts: number
  next_attempt_at: Date
  last_error: string | null
  sent_at: Date | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    mail_outbox: Table<
      MailOutboxRow,
      'id' | 'html_body' | 'status' | 'attempts' | 'next_attempt_at' | 'last_error' | 'sent_at' | 'created_at'
    >
  }
}
