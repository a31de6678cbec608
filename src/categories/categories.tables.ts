import type { Table } from '../db/index.js'

/** A node of the category tree (owned by the categories feature; admins edit it through trust). */
export type CategoryRow = {
  id: string
  name: string
  slug: string
  parent_id: string | null
  position: number
  /** Ancestors, root first, ending with this node (kept by a trigger: migration 20261211000100). */
  path: string[]
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    categories: Table<CategoryRow, 'id' | 'parent_id' | 'position' | 'path' | 'created_at'>
  }
}
