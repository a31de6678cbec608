import type { Table } from '../db/index.js'

/** One entry of the append-only audit trail (the database refuses updates and deletes). */
export type AuditRow = {
  id: string
  position: number
  action: string
  actor_id: string | null
  actor_role: string | null
  target_type: string
  target_id: string
  before: unknown
  after: unknown
  note: string | null
  request_id: string | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    audit_log: Table<
      AuditRow,
      'id' | 'position' | 'actor_id' | 'actor_role' | 'before' | 'after' | 'note' | 'request_id' | 'created_at'
    >
  }
}
