import type { Table } from '../db/index.js'

/** A notification of a user (written by the event spine, read and marked read here). */
export type NotificationRow = {
  id: string
  user_id: string
  type: string
  data: unknown
  read_at: Date | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    notifications: Table<NotificationRow, 'id' | 'read_at' | 'created_at'>
  }
}
