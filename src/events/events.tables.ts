import type { Table } from '../db/index.js'

/** The last `seq` given to each user's events. */
export type UserEventCounterRow = { user_id: string; last_seq: number }

/** A stored, user-facing event: what a client replays after a reconnect. */
export type UserEventRow = { user_id: string; seq: number; event: string; data: unknown; created_at: Date }

declare module 'knex/types/tables.js' {
  interface Tables {
    user_event_counters: Table<UserEventCounterRow, 'last_seq'>
    user_events: Table<UserEventRow, 'created_at'>
  }
}
