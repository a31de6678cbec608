import type { Table } from '../db/index.js'

export type WantStatus = 'open' | 'closed'

/** An item request a buyer posts. */
export type WantRow = {
  id: string
  user_id: string
  title: string
  description: string
  category_id: string | null
  /** Minor units; bigint, parsed to a number (src/db). */
  max_price: number | null
  currency: string
  city: string | null
  state: string | null
  lat: number | null
  lng: number | null
  status: WantStatus
  /** The author is banned: the want is off every public path until the unban (setAuthorBanned). */
  author_banned: boolean
  closed_at: Date | null
  created_at: Date
  updated_at: Date
  /** Generated from title and description: never written. */
  search_vector: string
  /** Generated from the title (what a new listing must contain to match): never written. */
  match_query: string
}

declare module 'knex/types/tables.js' {
  interface Tables {
    wants: Table<
      WantRow,
      | 'id'
      | 'description'
      | 'category_id'
      | 'max_price'
      | 'currency'
      | 'city'
      | 'state'
      | 'lat'
      | 'lng'
      | 'status'
      | 'author_banned'
      | 'closed_at'
      | 'created_at'
      | 'updated_at'
      | 'search_vector'
      | 'match_query'
    >
  }
}
