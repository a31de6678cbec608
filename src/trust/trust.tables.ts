import type { Table } from '../db/index.js'

/** A buyer's review of a seller, for one received shipment. */
export type ReviewRow = {
  id: string
  shipment_id: string
  order_id: string
  buyer_id: string
  seller_id: string
  rating: number
  body: string
  status: 'visible' | 'hidden'
  reply_body: string | null
  replied_at: Date | null
  open_flags: number
  moderation_note: string | null
  moderated_by: string | null
  moderated_at: Date | null
  created_at: Date
  updated_at: Date
}

/** A user's flag on a review, until an admin resolves it. */
export type ReviewFlagRow = {
  review_id: string
  user_id: string
  reason: string
  resolved_at: Date | null
  created_at: Date
}

/** Per-seller counts of visible reviews by stars, kept in the same transactions as the reviews. */
export type SellerRatingRow = {
  seller_id: string
  stars_1: number
  stars_2: number
  stars_3: number
  stars_4: number
  stars_5: number
}

declare module 'knex/types/tables.js' {
  interface Tables {
    reviews: Table<
      ReviewRow,
      | 'id'
      | 'status'
      | 'reply_body'
      | 'replied_at'
      | 'open_flags'
      | 'moderation_note'
      | 'moderated_by'
      | 'moderated_at'
      | 'created_at'
      | 'updated_at'
    >
    review_flags: Table<ReviewFlagRow, 'resolved_at' | 'created_at'>
    seller_ratings: Table<SellerRatingRow, 'stars_1' | 'stars_2' | 'stars_3' | 'stars_4' | 'stars_5'>
  }
}
