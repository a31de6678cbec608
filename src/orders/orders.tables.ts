import type { Table } from '../db/index.js'

export type PaymentStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded' | 'partially_refunded'
export type ShipmentStatus = 'pending' | 'sent' | 'en_route' | 'delivered' | 'received' | 'cancelled'

/** An order: money in kobo (total = subtotal − discount), the shipping address as given. */
export type OrderRow = {
  id: string
  buyer_id: string
  payment_status: PaymentStatus
  subtotal: number
  discount: number
  total: number
  refunded_amount: number
  currency: string
  coupon_id: string | null
  coupon_code: string | null
  shipping_address: Record<string, unknown>
  callback_url: string | null
  expires_at: Date | null
  paid_at: Date | null
  cancelled_at: Date | null
  cancel_reason: string | null
  created_at: Date
  updated_at: Date
}

/** One seller's part of an order. */
export type ShipmentRow = {
  id: string
  order_id: string
  seller_id: string
  status: ShipmentStatus
  tracking_number: string | null
  carrier: string | null
  sent_at: Date | null
  delivered_at: Date | null
  received_at: Date | null
  cancelled_at: Date | null
  created_at: Date
  updated_at: Date
}

/** A step of a shipment's history. */
export type HistoryRow = {
  id: string
  shipment_id: string
  from_status: string | null
  status: string
  actor_id: string | null
  tracking_number: string | null
  carrier: string | null
  note: string | null
  created_at: Date
}

/** A line of an order: a snapshot of the listing's title, price and seller at order time. */
export type OrderItemRow = {
  id: string
  order_id: string
  shipment_id: string
  listing_id: string | null
  seller_id: string
  title: string
  listing_type: 'sale' | 'giveaway'
  list_price: number
  unit_price: number
  quantity: number
  currency: string
  offer_id: string | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    orders: Table<
      OrderRow,
      | 'id'
      | 'payment_status'
      | 'discount'
      | 'refunded_amount'
      | 'currency'
      | 'coupon_id'
      | 'coupon_code'
      | 'callback_url'
      | 'expires_at'
      | 'paid_at'
      | 'cancelled_at'
      | 'cancel_reason'
      | 'created_at'
      | 'updated_at'
    >
    shipments: Table<
      ShipmentRow,
      | 'id'
      | 'status'
      | 'tracking_number'
      | 'carrier'
      | 'sent_at'
      | 'delivered_at'
      | 'received_at'
      | 'cancelled_at'
      | 'created_at'
      | 'updated_at'
    >
    shipment_history: Table<
      HistoryRow,
      'id' | 'from_status' | 'actor_id' | 'tracking_number' | 'carrier' | 'note' | 'created_at'
    >
    order_items: Table<OrderItemRow, 'id' | 'listing_id' | 'currency' | 'offer_id' | 'created_at'>
  }
}
