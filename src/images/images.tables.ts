import type { Table } from '../db/index.js'

/** A stored file still to delete (the blob outbox); `id` is a bigint, parsed to a number (src/db). */
export type BlobDeletionRow = {
  id: number
  pathname: string
  due_at: Date
  attempts: number
  last_error: string | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    blob_deletions: Table<BlobDeletionRow, 'id' | 'due_at' | 'attempts' | 'last_error' | 'created_at'>
  }
}
