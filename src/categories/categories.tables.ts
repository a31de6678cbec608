import type { Table } from '../db/index.js'

/** A node of the category tree (owned by the categories feature; admins edit it through trust). */
export type CategoryRow = {
  id: string
  name: string
  slug: string
  parent_id: string | null
  position: number
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    categories: Table<CategoryRow, 'id' | 'parent_id' | 'position' | 'created_at'>
  }
}
