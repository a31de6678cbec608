import type { Table } from '../db/index.js'

/** A listing a user keeps among their favourites. */
export type WishlistRow = {
  user_id: string
  listing_id: string
  created_at: Date
}

/** The last price-drop alert a wishlister got for a listing: when, and the lowest price alerted. */
export type PriceDropAlertRow = {
  listing_id: string
  user_id: string
  lowest_price: number
  alerted_at: Date
}

/**
 * A price drop still to fan out (or done): the outbox row a seller's PATCH writes, expanded by
 * the workers in batches of wishlisters ordered by user id, `cursor_user_id` the last one done.
 */
export type PriceDropFanoutRow = {
  id: number
  listing_id: string
  old_price: number
  new_price: number
  currency: string
  cursor_user_id: string | null
  batches: number
  alerted: number
  attempts: number
  next_attempt_at: Date
  last_error: string | null
  created_at: Date
  finished_at: Date | null
  outcome: 'done' | 'superseded' | 'withdrawn' | null
}

declare module 'knex/types/tables.js' {
  interface Tables {
    wishlists: Table<WishlistRow, 'created_at'>
    price_drop_alerts: Table<PriceDropAlertRow, 'alerted_at'>
    price_drop_fanouts: Table<
      PriceDropFanoutRow,
      | 'id'
      | 'cursor_user_id'
      | 'batches'
      | 'alerted'
      | 'attempts'
      | 'next_attempt_at'
      | 'last_error'
      | 'created_at'
      | 'finished_at'
      | 'outcome'
    >
  }
}
