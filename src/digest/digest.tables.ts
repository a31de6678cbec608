import type { Table } from '../db/index.js'

/** A user's digest switch and how far their digests have covered. */
export type DigestSettingsRow = {
  user_id: string
  off: boolean
  last_digest_at: Date | null
  covered_until: Date | null
  updated_at: Date
}

/** One burst of unread messages, handled once: mailed, or closed because the user was online. */
export type DigestRunRow = {
  user_id: string
  burst_start: Date
  outcome: 'mailed' | 'online'
  conversations: number
  messages: number
  created_at: Date
}

/** The last message (time, id) the digest sweeper has looked at: one row. */
export type DigestCursorRow = { id: boolean; scanned_at: Date; scanned_id: string }

declare module 'knex/types/tables.js' {
  interface Tables {
    digest_settings: Table<DigestSettingsRow, 'off' | 'last_digest_at' | 'covered_until' | 'updated_at'>
    digest_runs: Table<DigestRunRow, 'created_at'>
    digest_cursor: Table<DigestCursorRow, 'id'>
  }
}
