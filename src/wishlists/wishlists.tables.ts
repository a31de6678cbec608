import type { Table } from '../db/index.js'

/** A listing a user keeps among their favourites. */
export type WishlistRow = {
  user_id: string
  listing_id: string
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    wishlists: Table<WishlistRow, 'created_at'>
  }
}
