import t from 'tap'
import { call, type TestApp } from './helpers/app.js'
import { aUser, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aCoupon, checkout, commerceApp, fillCarts, toCart } from './factories/commerce.js'

/** An accepted offer from the seller to the buyer, held until `expiresAt`. */
async function anAcceptedOffer(
  app: TestApp,
  listing: { id: string; seller_id: string },
  buyer: SignedInUser,
  amount: number,
  expiresAt = "now() + interval '48 hours'",
) {
  const [conv] = await app
    .db('conversations')
    .insert({ listing_id: listing.id, buyer_id: buyer.id, seller_id: listing.seller_id })
    .onConflict(app.db.raw('(listing_id, buyer_id, seller_id) where listing_id is not null'))
    .merge()
    .returning('id')
  const [offer] = await app
    .db('offers')
    .insert({
      conversation_id: conv.id,
      listing_id: listing.id,
      buyer_id: buyer.id,
      seller_id: listing.seller_id,
      created_by: buyer.id,
      amount,
      status: 'accepted',
      expires_at: app.db.raw(expiresAt),
    })
    .returning('id')
  return offer.id as string
}

void t.test('the cart: prices now and when added, availability, refusals', async (t) => {
  const { app } = await commerceApp(t)
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const sofa = await aListing(app.db, seller.id, { title: 'Sofa', price: 100_000_00, quantity: 3 })
  const table = await aListing(app.db, seller.id, { title: 'Table', price: 20_000_00 })

  t.same((await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json, {
    items: [],
    subtotal: 0,
    discount: 0,
    total: 0,
    currency: 'NGN',
    coupon: null,
    checkoutReady: false,
  })
  const put = await toCart(app, buyer, sofa.id, 2)
  t.equal(put.statusCode, 200, put.body)
  t.match(put.json.items[0], {
    listingId: sofa.id,
    title: 'Sofa',
    quantity: 2,
    unitPrice: 100_000_00,
    currentPrice: 100_000_00,
    priceChanged: false,
    available: true,
    availableQuantity: 3,
    lineTotal: 200_000_00,
  })
  t.notOk('offerId' in put.json.items[0], 'no offer, no offerId')
  await toCart(app, buyer, table.id)
  let cart = (await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json
  t.equal(cart.subtotal, 220_000_00)
  t.equal(cart.total, 220_000_00)
  t.equal(cart.checkoutReady, true)

  // The seller changes the price: flagged until the line is put again.
  await app.db('listings').where('id', sofa.id).update({ price: 90_000_00 })
  cart = (await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json
  t.match(cart.items[0], { unitPrice: 100_000_00, currentPrice: 90_000_00, priceChanged: true, lineTotal: 180_000_00 })
  t.equal(cart.subtotal, 200_000_00, 'the cart charges the current price')
  const again = await toCart(app, buyer, sofa.id, 1)
  t.match(again.json.items[0], { quantity: 1, unitPrice: 90_000_00, priceChanged: false })

  // Too many, own listing, unknown, draft, removed, sold out, bad input.
  const tooMany = await toCart(app, buyer, sofa.id, 4)
  t.equal(tooMany.statusCode, 409)
  t.equal(tooMany.json.code, 'OUT_OF_STOCK')
  t.equal(tooMany.json.availableQuantity, 3)
  t.equal((await toCart(app, seller, sofa.id)).json.code, 'OWN_LISTING')
  t.equal((await toCart(app, seller, sofa.id)).statusCode, 403)
  t.equal((await toCart(app, buyer, '00000000-0000-4000-8000-000000000000')).statusCode, 404)
  const draft = await aListing(app.db, seller.id, { status: 'draft' })
  t.equal((await toCart(app, buyer, draft.id)).statusCode, 404, 'a draft is not for sale (nor visible)')
  const removed = await aListing(app.db, seller.id, { status: 'removed' })
  t.equal((await toCart(app, buyer, removed.id)).json.code, 'LISTING_UNAVAILABLE')
  const sold = await aListing(app.db, seller.id, { status: 'sold', sold_quantity: 1 })
  t.equal((await toCart(app, buyer, sold.id)).json.code, 'OUT_OF_STOCK')
  t.equal((await toCart(app, buyer, sofa.id, 0)).statusCode, 400)
  t.equal(
    (await call(app, 'PUT', `/v1/cart/items/${sofa.id}`, { token: buyer.accessToken, body: { quantity: 1, price: 1 } }))
      .statusCode,
    400,
    'unknown fields refused',
  )
  t.equal(
    (await call(app, 'PUT', '/v1/cart/items/not-a-uuid', { token: buyer.accessToken, body: { quantity: 1 } }))
      .statusCode,
    400,
  )
  t.equal((await call(app, 'PUT', `/v1/cart/items/${sofa.id}`, { body: { quantity: 1 } })).statusCode, 401)

  // Remove a line, then clear.
  const removedLine = await call(app, 'DELETE', `/v1/cart/items/${table.id}`, { token: buyer.accessToken })
  t.same(
    removedLine.json.items.map((i: { listingId: string }) => i.listingId),
    [sofa.id],
  )
  t.equal((await call(app, 'DELETE', `/v1/cart/items/${table.id}`, { token: buyer.accessToken })).statusCode, 404)
  t.equal((await call(app, 'DELETE', '/v1/cart', { token: buyer.accessToken })).statusCode, 204)
  t.same((await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json.items, [])
})

void t.test('availability follows other buyers’ reservations and sales', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, first, second] = [await aUser(app), await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 1 })
  await toCart(app, first, listing.id)
  await toCart(app, second, listing.id)
  const co = await checkout(app, first)
  const seen = (await call(app, 'GET', '/v1/cart', { token: second.accessToken })).json
  t.match(seen.items[0], { available: false, availableQuantity: 0 })
  t.equal(seen.checkoutReady, false)
  const refused = await checkout(app, second)
  t.equal(refused.json.code, 'OUT_OF_STOCK')
  paystack.pay(co.json.payment.reference)
  await call(app, 'POST', `/v1/orders/${co.json.order.id}/verify-payment`, { token: first.accessToken })
  t.match((await call(app, 'GET', '/v1/cart', { token: second.accessToken })).json.items[0], {
    status: 'sold',
    available: false,
  })
  t.same(
    (await call(app, 'GET', '/v1/cart', { token: first.accessToken })).json.items,
    [],
    'bought lines leave the buyer’s cart',
  )
})

void t.test('blocked either way: no sale, as no chat (cart, cart read and checkout)', async (t) => {
  const { app } = await commerceApp(t)
  const [seller, buyer, other] = [await aUser(app), await aUser(app), await aUser(app)]
  const lamp = await aListing(app.db, seller.id, { title: 'Lamp', quantity: 2 })
  t.equal((await toCart(app, buyer, lamp.id)).statusCode, 200)

  // The seller blocks the buyer after the line was added: the cart shows it unavailable and checkout refuses.
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode, 204)
  const cart = (await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json
  t.match(cart.items[0], { listingId: lamp.id, available: false })
  t.equal(cart.checkoutReady, false)
  const refused = await checkout(app, buyer)
  t.equal(refused.statusCode, 403)
  t.match(refused.json, { code: 'BLOCKED', listingId: lamp.id })
  t.same(await app.db('orders').where('buyer_id', buyer.id).select('id'), [], 'no order written')
  const put = await toCart(app, buyer, lamp.id, 2)
  t.equal(put.statusCode, 403)
  t.equal(put.json.code, 'BLOCKED')

  // The other way round: a buyer who blocked the seller cannot buy from them either.
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${seller.id}`, { token: other.accessToken })).statusCode, 204)
  t.equal((await toCart(app, other, lamp.id)).json.code, 'BLOCKED')

  // Unblocking restores the sale.
  t.equal((await call(app, 'DELETE', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode, 204)
  t.equal((await toCart(app, buyer, lamp.id)).statusCode, 200)
  t.equal((await checkout(app, buyer)).statusCode, 201)
})

void t.test('an accepted, unexpired offer replaces the list price, once', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, buyer, other] = [await aUser(app), await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { price: 50_000_00, quantity: 3 })
  const expired = await aListing(app.db, seller.id, { price: 10_000_00 })
  const offerId = await anAcceptedOffer(app, listing, buyer, 40_000_00)
  await anAcceptedOffer(app, expired, buyer, 5_000_00, "now() - interval '1 minute'")

  const put = await toCart(app, buyer, listing.id)
  t.match(put.json.items[0], {
    unitPrice: 40_000_00,
    currentPrice: 40_000_00,
    listPrice: 50_000_00,
    priceChanged: false,
    offerId,
  })
  const exp = await toCart(app, buyer, expired.id)
  const line = exp.json.items.find((i: { listingId: string }) => i.listingId === expired.id)
  t.equal(line.currentPrice, 10_000_00, 'an expired offer does not count')
  t.notOk('offerId' in line)
  t.equal(
    (await toCart(app, other, listing.id)).json.items[0].currentPrice,
    50_000_00,
    'the offer is this buyer’s only',
  )

  await call(app, 'DELETE', `/v1/cart/items/${expired.id}`, { token: buyer.accessToken })
  const co = await checkout(app, buyer)
  t.equal(co.json.order.total, 40_000_00)
  t.match(co.json.order.items[0], { unitPrice: 40_000_00, listPrice: 50_000_00, offerId })
  paystack.pay(co.json.payment.reference)
  await call(app, 'POST', `/v1/orders/${co.json.order.id}/verify-payment`, { token: buyer.accessToken })

  // The offer was used: the next unit is at the list price.
  const next = await toCart(app, buyer, listing.id)
  t.equal(next.json.items[0].currentPrice, 50_000_00)
  t.notOk('offerId' in next.json.items[0])
})

void t.test('coupon preview on the cart', async (t) => {
  const { app } = await commerceApp(t)
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { price: 10_000_00 })
  await toCart(app, buyer, listing.id)
  const ten = await aCoupon(app, { code: 'TENOFF', type: 'percent', value: 10 })
  await aCoupon(app, { code: 'BIGSPEND', type: 'flat', value: 1_000_00, min_order: 50_000_00 })
  await aCoupon(app, { code: 'OLDNEWS', expires_at: new Date(Date.now() - 60_000) })
  await aCoupon(app, { code: 'SLEEPING', active: false })

  const ok = await call(app, 'PUT', '/v1/cart/coupon', { token: buyer.accessToken, body: { code: 'tenoff' } })
  t.equal(ok.statusCode, 200, ok.body)
  t.match(ok.json, {
    subtotal: 10_000_00,
    discount: 1_000_00,
    total: 9_000_00,
    coupon: { code: 'TENOFF', discount: 1_000_00, valid: true },
  })
  const codes = async (code: string) =>
    (await call(app, 'PUT', '/v1/cart/coupon', { token: buyer.accessToken, body: { code } })).json
  t.equal((await codes('NOSUCH')).code, 'COUPON_NOT_FOUND')
  t.equal((await codes('SLEEPING')).code, 'COUPON_NOT_FOUND', 'inactive reads as unknown')
  t.equal((await codes('OLDNEWS')).code, 'COUPON_EXPIRED')
  const min = await codes('BIGSPEND')
  t.equal(min.code, 'COUPON_MIN_ORDER')
  t.equal(min.minOrder, 50_000_00)
  t.equal((await codes('x')).code, 'VALIDATION_FAILED')
  t.equal(
    (await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json.coupon.code,
    'TENOFF',
    'a refused code leaves the previewed one',
  )

  // The coupon stops applying: the cart says why and charges full price.
  await app.db('coupons').where('id', ten.id).update({ active: false })
  const stale = (await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })).json
  t.match(stale, {
    discount: 0,
    total: 10_000_00,
    coupon: { code: 'TENOFF', valid: false, problem: { code: 'COUPON_NOT_FOUND' } },
  })
  const removed = await call(app, 'DELETE', '/v1/cart/coupon', { token: buyer.accessToken })
  t.equal(removed.json.coupon, null)
})

void t.test('a cart holds at most 50 listings', async (t) => {
  const { app } = await commerceApp(t)
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listings = await Promise.all(Array.from({ length: 51 }, () => aListing(app.db, seller.id)))
  await fillCarts(
    app,
    listings.slice(0, 50).map((l) => ({ userId: buyer.id, listingId: l.id })),
  )
  const full = await toCart(app, buyer, listings[50]!.id)
  t.equal(full.statusCode, 409)
  t.equal(full.json.code, 'CART_FULL')
  t.equal((await toCart(app, buyer, listings[0]!.id, 1)).statusCode, 200, 'an existing line can still change')
})
