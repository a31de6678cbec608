import { call, type Json, type TestApp } from '../helpers/app.js'
import type { FakePaystack } from '../fakes/paystack.js'
import { paidOrder } from './commerce.js'
import { aListing } from './listings.js'
import { aUser, type SignedInUser } from './users.js'

/** The fee and VAT rates the tests run with (the defaults: 5 %, and 7.5 % of the fee). */
export const RATES = { feeBps: 500, vatBps: 750 }

/** `GET /v1/me/balance` of a user; throws unless it answers 200. */
export async function balanceOf(app: TestApp, user: SignedInUser): Promise<Json> {
  const res = await call(app, 'GET', '/v1/me/balance', { token: user.accessToken })
  if (res.statusCode !== 200) throw new Error(`balance: ${res.statusCode} ${res.body}`)
  return res.json
}

/** The seller moves a shipment on; throws unless it answers 200. */
export async function moveTo(app: TestApp, seller: SignedInUser, shipmentId: string, status: string): Promise<void> {
  const res = await call(app, 'POST', `/v1/shipments/${shipmentId}/status`, {
    token: seller.accessToken,
    body: { status },
  })
  if (res.statusCode !== 200) throw new Error(`move: ${res.statusCode} ${res.body}`)
}

/** A seller, a buyer, and the seller's listing at `price`, paid for by the buyer. */
export async function paidSale(app: TestApp, paystack: FakePaystack, price = 7_500_000) {
  const seller = await aUser(app, { name: 'Sade Seller' })
  const buyer = await aUser(app, { name: 'Bola Buyer' })
  const listing = await aListing(app.db, seller.id, { price })
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  return { seller, buyer, order, shipmentId: order.shipments[0].id as string }
}

/** A paid sale the buyer has received: the seller's share is available. */
export async function receivedSale(app: TestApp, paystack: FakePaystack, price = 7_500_000) {
  const sale = await paidSale(app, paystack, price)
  await moveTo(app, sale.seller, sale.shipmentId, 'delivered')
  const received = await call(app, 'POST', `/v1/shipments/${sale.shipmentId}/received`, {
    token: sale.buyer.accessToken,
  })
  if (received.statusCode !== 200) throw new Error(`received: ${received.statusCode} ${received.body}`)
  return sale
}
