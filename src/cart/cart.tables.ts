import type { Table } from '../db/index.js'

/** A user's cart: the coupon being previewed (the lines are cart_items). */
export type CartRow = {
  user_id: string
  coupon_id: string | null
  updated_at: Date
}

/** A line of a cart, with the unit price the buyer saw when it was last put. */
export type CartItemRow = {
  user_id: string
  listing_id: string
  quantity: number
  unit_price: number
  currency: string
  added_at: Date
  updated_at: Date
}

/** Units a checkout holds until it is paid (converted) or released; past expires_at it no longer counts. */
export type ReservationRow = {
  id: string
  listing_id: string
  buyer_id: string
  order_id: string | null
  quantity: number
  expires_at: Date
  released_at: Date | null
  converted_at: Date | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    carts: Table<CartRow, 'coupon_id' | 'updated_at'>
    cart_items: Table<CartItemRow, 'currency' | 'added_at' | 'updated_at'>
    reservations: Table<ReservationRow, 'id' | 'order_id' | 'released_at' | 'converted_at' | 'created_at'>
  }
}
