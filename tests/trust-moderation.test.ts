import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing, categoryId } from './factories/listings.js'
import { aShipment } from './factories/trust.js'

void t.test('reported listings: the queue, removal (search, carts, seller told) and dismissal', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const reporters = [await aUser(app), await aUser(app)]
  const bad = await aListing(app.db, seller.id, { title: 'Counterfeit designer handbag', description: 'Totally real' })
  const fine = await aListing(app.db, seller.id, { title: 'Wooden bookshelf' })

  t.equal(
    (await call(app, 'PUT', `/v1/cart/items/${bad.id}`, { token: buyer.accessToken, body: { quantity: 1 } }))
      .statusCode,
    200,
    'in a cart',
  )
  for (const r of reporters)
    t.equal(
      (
        await call(app, 'POST', `/v1/listings/${bad.id}/reports`, {
          token: r.accessToken,
          body: { reason: 'counterfeit' },
        })
      ).statusCode,
      201,
    )
  await call(app, 'POST', `/v1/listings/${fine.id}/reports`, {
    token: reporters[0]!.accessToken,
    body: { reason: 'other', detail: 'not sure' },
  })

  const queue = await call(app, 'GET', '/v1/admin/reports', { token: admin.accessToken })
  t.equal(queue.statusCode, 200)
  t.equal(queue.json.items.length, 3)
  t.equal(queue.json.items.find((r: { listing: { id: string } }) => r.listing.id === bad.id).listing.openReports, 2)
  t.equal((await call(app, 'GET', '/v1/admin/reports', { token: seller.accessToken })).statusCode, 403)

  const found = await call(app, 'GET', '/v1/listings?q=handbag')
  t.ok(
    found.json.items.some((l: { id: string }) => l.id === bad.id),
    'searchable before removal',
  )

  t.equal(
    (await call(app, 'POST', `/v1/admin/listings/${bad.id}/remove`, { token: admin.accessToken, body: {} })).statusCode,
    400,
    'a reason is required',
  )
  const removed = await call(app, 'POST', `/v1/admin/listings/${bad.id}/remove`, {
    token: admin.accessToken,
    body: { reason: 'Counterfeit goods are prohibited' },
  })
  t.equal(removed.statusCode, 200)
  t.same(removed.json, { listingId: bad.id, status: 'removed', reportsClosed: 2, cartsCleared: 1 })
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/listings/${bad.id}/remove`, {
        token: admin.accessToken,
        body: { reason: 'again' },
      })
    ).json.code,
    'LISTING_ALREADY_REMOVED',
  )

  t.notOk(
    (await call(app, 'GET', '/v1/listings?q=handbag')).json.items.some((l: { id: string }) => l.id === bad.id),
    'gone from search',
  )
  const cart = await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })
  t.notOk(
    cart.json.items.some((i: { listingId: string }) => i.listingId === bad.id),
    'gone from carts',
  )
  const note = await app.db('notifications').where({ user_id: seller.id, type: 'listing_removed' }).first()
  t.same(note.data, { listingId: bad.id, reason: 'Counterfeit goods are prohibited' }, 'the seller is told why')
  t.ok(
    await app.db('audit_log').where({ action: 'admin.listing_removed', target_id: bad.id, actor_id: admin.id }).first(),
    'audited',
  )

  const open = await call(app, 'GET', '/v1/admin/reports?status=open', { token: admin.accessToken })
  t.equal(open.json.items.length, 1)
  const dismissed = await call(app, 'POST', `/v1/admin/reports/${open.json.items[0].id}/dismiss`, {
    token: admin.accessToken,
    body: { note: 'not a problem' },
  })
  t.equal(dismissed.json.status, 'dismissed')
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/reports/${open.json.items[0].id}/dismiss`, {
        token: admin.accessToken,
        body: { note: 'again' },
      })
    ).json.code,
    'REPORT_CLOSED',
  )
  t.equal(
    (await call(app, 'GET', '/v1/admin/reports?status=actioned', { token: admin.accessToken })).json.items.length,
    2,
  )
})

void t.test('stats match hand-computed sums on seeded data', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const [s1, s2, buyer] = [
    await aUser(app, { name: 'Seller One' }),
    await aUser(app, { name: 'Seller Two' }),
    await aUser(app),
  ]
  const phones = await categoryId(app.db, 'mobile-phones')
  const sofas = await categoryId(app.db, 'sofas-chairs')
  const day1 = new Date('2026-03-01T10:00:00Z')
  const day2 = new Date('2026-03-02T23:30:00Z')
  const sales = [
    { seller: s1, category: phones, price: 120_000_00, paidAt: day1, refunded: 0 },
    { seller: s1, category: sofas, price: 80_000_00, paidAt: day1, refunded: 20_000_00 },
    { seller: s2, category: phones, price: 50_000_00, paidAt: day2, refunded: 0 },
  ]
  for (const sale of sales) {
    const l = await aListing(app.db, sale.seller.id, {
      category_id: sale.category,
      price: sale.price,
      status: 'sold',
      sold_quantity: 1,
    })
    const { orderId } = await aShipment(app.db, buyer.id, sale.seller.id, {
      listingId: l.id,
      price: sale.price,
      status: 'sent',
    })
    await app
      .db('orders')
      .where('id', orderId)
      .update({
        paid_at: sale.paidAt,
        created_at: sale.paidAt,
        refunded_amount: sale.refunded,
        payment_status: sale.refunded ? 'partially_refunded' : 'paid',
      })
    await app.db('shipments').where('order_id', orderId).update({ created_at: sale.paidAt })
  }
  // An unpaid order and one outside the range do not count as revenue.
  const pending = await aShipment(app.db, buyer.id, s2.id, { price: 999_00, status: 'pending' })
  await app
    .db('orders')
    .where('id', pending.orderId)
    .update({ payment_status: 'pending', paid_at: null, created_at: day2 })
  await app.db('shipments').where('order_id', pending.orderId).update({ created_at: day2 })
  const outside = await aShipment(app.db, buyer.id, s2.id, { price: 777_00 })
  await app
    .db('orders')
    .where('id', outside.orderId)
    .update({ paid_at: new Date('2026-04-15T00:00:00Z'), created_at: new Date('2026-04-15T00:00:00Z') })

  const res = await call(app, 'GET', '/v1/admin/stats?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z', {
    token: admin.accessToken,
  })
  t.equal(res.statusCode, 200)
  t.same(res.json.revenueByDay, [
    { day: '2026-03-01', gross: 200_000_00, refunded: 20_000_00, net: 180_000_00, orders: 2 },
    { day: '2026-03-02', gross: 50_000_00, refunded: 0, net: 50_000_00, orders: 1 },
  ])
  t.same(res.json.ordersByPaymentStatus, { paid: 2, partially_refunded: 1, pending: 1 })
  t.same(res.json.shipmentsByStatus, { sent: 3, pending: 1 })
  t.same(
    res.json.topCategories.map((c: { name: string; revenue: number; units: number }) => [c.name, c.revenue, c.units]),
    [
      ['Mobile Phones', 170_000_00, 2],
      ['Sofas & Chairs', 80_000_00, 1],
    ],
  )
  t.same(
    res.json.topSellers.map((s: { name: string; revenue: number; orders: number }) => [s.name, s.revenue, s.orders]),
    [
      ['Seller One', 200_000_00, 2],
      ['Seller Two', 50_000_00, 1],
    ],
  )
  t.equal(
    (
      await call(app, 'GET', '/v1/admin/stats?from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z', {
        token: admin.accessToken,
      })
    ).statusCode,
    400,
  )
  t.equal((await call(app, 'GET', '/v1/admin/stats', { token: buyer.accessToken })).statusCode, 403)
})
