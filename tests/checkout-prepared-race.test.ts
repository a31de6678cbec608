import t from 'tap'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { available, checkout, commerceApp, fillCarts, manyBuyers } from './factories/commerce.js'

/*
 * Checkout's statements are named prepared statements that run their generic plan (planned
 * once per connection, not for the values of each checkout), and its first read takes the
 * buyer, the cart and the unlocked stock in one statement. Neither may weaken the stock rules.
 */

void t.test('hundreds of parallel checkouts for the last units: exactly the stock, the rest 409, no 5xx', async (t) => {
  const { app } = await commerceApp(t, { DATABASE_POOL_MAX: 20, CHECKOUT_MAX_UNPAID: 0 })
  const seller = await aUser(app)
  const stock = 7
  const listing = await aListing(app.db, seller.id, { quantity: stock, price: 2_000_00 })
  const buyers = await manyBuyers(app, 200)
  await fillCarts(
    app,
    buyers.map((b) => ({ userId: b.id, listingId: listing.id, quantity: 1, unitPrice: 2_000_00 })),
  )

  const results = await Promise.all(buyers.map((b) => checkout(app, b)))
  const count = (status: number) => results.filter((r) => r.statusCode === status).length
  t.equal(count(201), stock, `${stock} checkouts succeed`)
  t.equal(count(409), buyers.length - stock, 'every other one is 409')
  t.same(
    results.filter((r) => r.statusCode >= 500).map((r) => r.body.slice(0, 200)),
    [],
    'no 5xx',
  )
  t.ok(
    results
      .filter((r) => r.statusCode === 409)
      .every((r) => (JSON.parse(r.body) as { code: string }).code === 'OUT_OF_STOCK'),
    'the 409s say OUT_OF_STOCK',
  )
  const reserved = (await app
    .db('reservations')
    .where('listing_id', listing.id)
    .whereNull('released_at')
    .sum({ n: 'quantity' })
    .first()) as { n: number | string }
  t.equal(Number(reserved.n), stock, 'exactly the stock is reserved')
  t.equal(await available(app, listing.id), 0, 'nothing left')
  t.equal(
    Number(((await app.db('orders').count({ n: '*' }).first()) as { n: number | string }).n),
    stock,
    'one order per success',
  )

  // The statements ran prepared, with their generic plan (not re-planned per checkout).
  const { rows } = (await app.db.raw(
    "select generic_plans, custom_plans from pg_prepared_statements where statement like '%insert into reservations%'",
  )) as { rows: { generic_plans: number; custom_plans: number }[] }
  const preparedOnOneConnection = rows[0]
  t.ok(preparedOnOneConnection === undefined || preparedOnOneConnection.custom_plans === 0, 'no custom plans')

  // A later checkout of a sold-out listing stops at the first (unlocked) read.
  const late = await aUser(app)
  await fillCarts(app, [{ userId: late.id, listingId: listing.id, quantity: 1, unitPrice: 2_000_00 }])
  const refused = await checkout(app, late)
  t.equal(refused.statusCode, 409)
  t.equal((JSON.parse(refused.body) as { code: string }).code, 'OUT_OF_STOCK')
})

void t.test('the first read: an empty cart, a removed listing, a cart of several listings', async (t) => {
  const { app } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)

  const empty = await checkout(app, buyer)
  t.equal(empty.statusCode, 409)
  t.equal((JSON.parse(empty.body) as { code: string }).code, 'CART_EMPTY')

  const [a, b] = await Promise.all([
    aListing(app.db, seller.id, { quantity: 3, price: 1_000_00 }),
    aListing(app.db, seller.id, { quantity: 2, price: 2_500_00 }),
  ])
  await fillCarts(app, [
    { userId: buyer.id, listingId: a.id, quantity: 2, unitPrice: 1_000_00 },
    { userId: buyer.id, listingId: b.id, quantity: 1, unitPrice: 2_500_00 },
  ])
  await app.db('listings').where('id', b.id).update({ status: 'removed' })
  const removed = await checkout(app, buyer)
  t.equal(removed.statusCode, 409)
  t.equal((JSON.parse(removed.body) as { code: string }).code, 'LISTING_UNAVAILABLE')

  await app.db('listings').where('id', b.id).update({ status: 'active' })
  const ok = await checkout(app, buyer)
  t.equal(ok.statusCode, 201, ok.body.slice(0, 200))
  const body = JSON.parse(ok.body) as { order: { total: number; items: { listingId: string; quantity: number }[] } }
  t.equal(body.order.total, 2 * 1_000_00 + 2_500_00, 'both lines priced')
  t.same(
    body.order.items.map((i) => [i.listingId, i.quantity]).sort(),
    [
      [a.id, 2],
      [b.id, 1],
    ].sort(),
  )
  t.equal(await available(app, a.id), 1)
  t.equal(await available(app, b.id), 1)
})
