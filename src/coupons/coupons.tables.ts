import type { Table } from '../db/index.js'

/** A coupon; used_count is counted by a conditional UPDATE at checkout. */
export type CouponRow = {
  id: string
  code: string
  type: 'percent' | 'flat'
  value: number
  min_order: number | null
  max_discount: number | null
  expires_at: Date | null
  usage_limit: number | null
  per_user_limit: number | null
  used_count: number
  active: boolean
  created_by: string | null
  created_at: Date
  updated_at: Date
}

/** One use of a coupon by an order; released_at is set when the order is abandoned, cancelled or fails. */
export type CouponRedemptionRow = {
  id: string
  coupon_id: string
  user_id: string
  order_id: string
  discount: number
  released_at: Date | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    coupons: Table<
      CouponRow,
      | 'id'
      | 'min_order'
      | 'max_discount'
      | 'expires_at'
      | 'usage_limit'
      | 'per_user_limit'
      | 'used_count'
      | 'active'
      | 'created_by'
      | 'created_at'
      | 'updated_at'
    >
    coupon_redemptions: Table<CouponRedemptionRow, 'id' | 'released_at' | 'created_at'>
  }
}
