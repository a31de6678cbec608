/**
 * The admin routes the console needed: a user's profile (GET /v1/admin/users/:id) and the
 * order look-up by Paystack reference, buyer or seller (GET /v1/admin/orders).
 */
import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aShipment } from './factories/trust.js'
import { commerceApp, paidOrder } from './factories/commerce.js'

const UNKNOWN = '00000000-0000-4000-8000-000000000000'

void t.test('GET /v1/admin/users/:id: the account, listings, reports on them and by them', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const [seller, reporter, buyer] = [
    await aUser(app, { name: 'Sola Seller' }),
    await aUser(app, { name: 'Remi Reporter' }),
    await aUser(app),
  ]
  const sofa = await aListing(app.db, seller.id, { title: 'Green sofa' })
  await aListing(app.db, seller.id, { title: 'Old lamp', status: 'removed' })
  const report = await call(app, 'POST', `/v1/listings/${sofa.id}/reports`, {
    token: reporter.accessToken,
    body: { reason: 'scam', detail: 'Wants a bank transfer' },
  })
  t.equal(report.statusCode, 201, report.body)
  await aShipment(app.db, seller.id, buyer.id)

  const res = await call(app, 'GET', `/v1/admin/users/${seller.id}`, { token: admin.accessToken })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json.user, { id: seller.id, email: seller.email, name: 'Sola Seller', role: 'user', bannedAt: null })
  t.same(res.json.counts, { listings: 2, ordersAsBuyer: 1, reportsAgainst: 1, reportsMade: 0 })
  t.same(
    (res.json.listings as { title: string; status: string; openReports: number; hiddenByBan: boolean }[])
      .map((l) => [l.title, l.status, l.openReports, l.hiddenByBan])
      .sort(),
    [
      ['Green sofa', 'active', 1, false],
      ['Old lamp', 'removed', 0, false],
    ],
    'every listing, any status, with its open reports',
  )
  t.match(res.json.reportsAgainst, [
    { id: report.json.id, listingId: sofa.id, listingTitle: 'Green sofa', reporterId: reporter.id, reason: 'scam' },
  ])
  t.same(res.json.reportsMade, [])

  const byReporter = await call(app, 'GET', `/v1/admin/users/${reporter.id}`, { token: admin.accessToken })
  t.same(byReporter.json.counts, { listings: 0, ordersAsBuyer: 0, reportsAgainst: 0, reportsMade: 1 })
  t.equal(byReporter.json.reportsMade[0].id, report.json.id)

  // A ban shows: listings flagged hidden, the ban's reason on the account.
  const ban = await call(app, 'POST', `/v1/admin/users/${seller.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'Scam listings' },
  })
  t.equal(ban.statusCode, 200, ban.body)
  const banned = await call(app, 'GET', `/v1/admin/users/${seller.id}`, { token: admin.accessToken })
  t.equal(banned.json.user.banReason, 'Scam listings')
  t.ok(
    (banned.json.listings as { hiddenByBan: boolean }[]).every((l) => l.hiddenByBan),
    'listings off the public paths',
  )

  const other = await call(app, 'GET', `/v1/admin/users/${seller.id}`, { token: reporter.accessToken })
  t.equal(other.statusCode, 403, 'a normal user: 403')
  t.equal(other.json.code, 'FORBIDDEN')
  t.equal((await call(app, 'GET', `/v1/admin/users/${seller.id}`)).statusCode, 401, 'anonymous: 401')
  const unknown = await call(app, 'GET', `/v1/admin/users/${UNKNOWN}`, { token: admin.accessToken })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json.code, 'NOT_FOUND')
  const malformed = await call(app, 'GET', '/v1/admin/users/not-an-id', { token: admin.accessToken })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json.code, 'VALIDATION_FAILED')
})

void t.test('GET /v1/admin/orders: by Paystack reference, buyer, seller, status; paged', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const [seller, other, buyer] = [await aUser(app), await aUser(app), await aUser(app)]
  const one = await aListing(app.db, seller.id, { price: 40_000_00, quantity: 3 })
  const two = await aListing(app.db, other.id, { price: 15_000_00 })
  const first = await paidOrder(app, paystack, buyer, [one.id])
  const second = await paidOrder(app, paystack, buyer, [two.id])
  const ref = first.payment.reference as string

  const byRef = await call(app, 'GET', `/v1/admin/orders?reference=${encodeURIComponent(ref)}`, {
    token: admin.accessToken,
  })
  t.equal(byRef.statusCode, 200, byRef.body)
  t.same(
    byRef.json.items.map((o: { id: string }) => o.id),
    [first.id],
  )
  t.match(byRef.json.items[0], {
    paymentStatus: 'paid',
    total: 40_000_00,
    payment: { reference: ref, status: 'success' },
    shipments: [{ sellerId: seller.id, history: [{ status: 'pending' }] }],
  })
  t.equal(byRef.json.nextCursor, null)
  const none = await call(app, 'GET', '/v1/admin/orders?reference=nope', { token: admin.accessToken })
  t.same(none.json, { items: [], nextCursor: null }, 'an unknown reference finds nothing')

  const bySeller = await call(app, 'GET', `/v1/admin/orders?sellerId=${other.id}`, { token: admin.accessToken })
  t.same(
    bySeller.json.items.map((o: { id: string }) => o.id),
    [second.id],
  )
  const byBuyer = await call(app, 'GET', `/v1/admin/orders?buyerId=${buyer.id}&limit=1`, {
    token: admin.accessToken,
  })
  t.same(
    byBuyer.json.items.map((o: { id: string }) => o.id),
    [second.id],
    'newest first',
  )
  t.type(byBuyer.json.nextCursor, 'string')
  const page2 = await call(
    app,
    'GET',
    `/v1/admin/orders?buyerId=${buyer.id}&limit=1&cursor=${encodeURIComponent(byBuyer.json.nextCursor)}`,
    { token: admin.accessToken },
  )
  t.same(
    page2.json.items.map((o: { id: string }) => o.id),
    [first.id],
  )
  t.equal(page2.json.nextCursor, null)
  const refunded = await call(app, 'GET', `/v1/admin/orders?buyerId=${buyer.id}&paymentStatus=refunded`, {
    token: admin.accessToken,
  })
  t.same(refunded.json.items, [])

  const asUser = await call(app, 'GET', `/v1/admin/orders?reference=${ref}`, { token: buyer.accessToken })
  t.equal(asUser.statusCode, 403, 'the buyer is no admin')
  t.equal((await call(app, 'GET', '/v1/admin/orders')).statusCode, 401)
  for (const q of ['buyerId=nope', 'paymentStatus=lost', 'limit=0', 'cursor=garbage', 'colour=red']) {
    const bad = await call(app, 'GET', `/v1/admin/orders?${q}`, { token: admin.accessToken })
    t.equal(bad.statusCode, 400, `${q}: 400`)
  }
})
