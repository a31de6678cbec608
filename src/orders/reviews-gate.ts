import type { Db } from '../db/index.js'
import type { OrderRow, ShipmentRow } from './orders.tables.js'

export type ReviewableShipment = {
  shipmentId: string
  orderId: string
  buyerId: string
  sellerId: string
  status: string
  receivedAt: Date | null
  listingIds: string[]
}

/**
 * What the trust feature needs to allow a review: who bought and sold in a shipment and
 * whether the buyer confirmed receipt (status `received`). Undefined when there is no such
 * shipment. Pass a transaction to read it under the caller's locks; `lock` also locks the
 * shipment row (FOR UPDATE) until that transaction ends.
 */
export async function shipmentForReview(
  db: Db,
  shipmentId: string,
  opts: { lock?: boolean } = {},
): Promise<ReviewableShipment | undefined> {
  const row = await db('shipments as s')
    .join('orders as o', 'o.id', 's.order_id')
    .where('s.id', shipmentId)
    .modify((q) => (opts.lock ? q.forUpdate('s') : q))
    .first<
      | (Pick<ShipmentRow, 'id' | 'order_id' | 'seller_id' | 'status' | 'received_at'> & Pick<OrderRow, 'buyer_id'>)
      | undefined
    >('s.id', 's.order_id', 'o.buyer_id', 's.seller_id', 's.status', 's.received_at')
  if (!row) return undefined
  const items = await db('order_items').where('shipment_id', shipmentId).whereNotNull('listing_id').select('listing_id')
  return {
    shipmentId: row.id,
    orderId: row.order_id,
    buyerId: row.buyer_id,
    sellerId: row.seller_id,
    status: row.status,
    receivedAt: row.received_at,
    listingIds: [...new Set(items.flatMap((i) => (i.listing_id ? [i.listing_id] : [])))],
  }
}
