import type { Table } from '../db/index.js'

/** A claimed Idempotency-Key and, once answered, the stored response (its exact text as a JSON string). */
export type IdempotencyKeyRow = {
  user_id: string
  key: string
  route: string
  request_hash: string
  status_code: number | null
  response_body: unknown
  /** The first answer's Location header, replayed with it. */
  location: string | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    idempotency_keys: Table<IdempotencyKeyRow, 'status_code' | 'response_body' | 'location' | 'created_at'>
  }
}
