import type { Knex } from 'knex'
import type { ShipmentStatus } from '../../src/orders/index.js'
import { aListing } from './listings.js'

/**
 * A paid order with one shipment from `sellerId` to `buyerId` in the given status
 * (default `received`), inserted straight into the tables commerce owns.
 */
export async function aShipment(
  db: Knex,
  buyerId: string,
  sellerId: string,
  opts: { status?: string; listingId?: string; price?: number } = {},
) {
  const price = opts.price ?? 10_000_00
  const listingId = opts.listingId ?? (await aListing(db, sellerId, { price, status: 'sold', sold_quantity: 1 })).id
  const [order] = (await db('orders')
    .insert({
      buyer_id: buyerId,
      payment_status: 'paid',
      subtotal: price,
      total: price,
      shipping_address: { city: 'Lagos' },
      paid_at: db.fn.now(),
    })
    .returning('id')) as { id: string }[]
  const status = opts.status ?? 'received'
  const [shipment] = (await db('shipments')
    .insert({
      order_id: order!.id,
      seller_id: sellerId,
      status: status as ShipmentStatus,
      ...(status === 'received' ? { received_at: db.fn.now() } : {}),
    })
    .returning('id')) as { id: string }[]
  await db('order_items').insert({
    order_id: order!.id,
    shipment_id: shipment!.id,
    listing_id: listingId,
    seller_id: sellerId,
    title: 'Three-seater sofa',
    listing_type: 'sale',
    list_price: price,
    unit_price: price,
    quantity: 1,
  })
  return { orderId: order!.id, shipmentId: shipment!.id, listingId }
}
