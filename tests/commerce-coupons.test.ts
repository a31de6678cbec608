import t from 'tap'
import { call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aCoupon, checkout, commerceApp, fillCarts, manyBuyers, toCart } from './factories/commerce.js'

void t.test('admins manage coupons; everyone else is refused', async (t) => {
  const { app } = await commerceApp(t)
  const admin = await anAdmin(app)
  const user = await aUser(app)
  const body = {
    code: 'Harmattan25',
    type: 'percent',
    value: 25,
    minOrder: 10_000_00,
    maxDiscount: 5_000_00,
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    usageLimit: 100,
    perUserLimit: 1,
  }

  t.equal((await call(app, 'POST', '/v1/admin/coupons', { token: user.accessToken, body })).statusCode, 403)
  t.equal((await call(app, 'GET', '/v1/admin/coupons', { token: user.accessToken })).statusCode, 403)
  t.equal((await call(app, 'POST', '/v1/admin/coupons', { body })).statusCode, 401)
  const created = await call(app, 'POST', '/v1/admin/coupons', { token: admin.accessToken, body })
  t.equal(created.statusCode, 201, created.body)
  t.match(created.json, {
    code: 'HARMATTAN25',
    type: 'percent',
    value: 25,
    minOrder: 10_000_00,
    maxDiscount: 5_000_00,
    usageLimit: 100,
    perUserLimit: 1,
    usedCount: 0,
    active: true,
  })
  t.equal(
    (await call(app, 'POST', '/v1/admin/coupons', { token: admin.accessToken, body: { ...body, code: 'harmattan25' } }))
      .json.code,
    'COUPON_CODE_TAKEN',
    'codes are case-insensitive',
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/coupons', {
        token: admin.accessToken,
        body: { ...body, code: 'OVER', value: 101 },
      })
    ).statusCode,
    400,
    'percent over 100',
  )
  t.equal(
    (await call(app, 'POST', '/v1/admin/coupons', { token: admin.accessToken, body: { ...body, code: 'BAD CODE' } }))
      .statusCode,
    400,
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/coupons', {
        token: admin.accessToken,
        body: { ...body, code: 'EXTRA', stackable: true },
      })
    ).statusCode,
    400,
  )
  const flat = await call(app, 'POST', '/v1/admin/coupons', {
    token: admin.accessToken,
    body: { code: 'FLAT500', type: 'flat', value: 500_00 },
  })
  t.match(flat.json, {
    minOrder: null,
    maxDiscount: null,
    expiresAt: null,
    usageLimit: null,
    perUserLimit: null,
    active: true,
  })

  const list = await call(app, 'GET', '/v1/admin/coupons?limit=1', { token: admin.accessToken })
  t.same(
    list.json.items.map((c: { code: string }) => c.code),
    ['FLAT500'],
  )
  const next = await call(app, 'GET', `/v1/admin/coupons?limit=1&cursor=${list.json.nextCursor}`, {
    token: admin.accessToken,
  })
  t.same(
    next.json.items.map((c: { code: string }) => c.code),
    ['HARMATTAN25'],
  )
  t.equal(
    (await call(app, 'GET', `/v1/admin/coupons/${created.json.id}`, { token: admin.accessToken })).json.code,
    'HARMATTAN25',
  )

  const patched = await call(app, 'PATCH', `/v1/admin/coupons/${created.json.id}`, {
    token: admin.accessToken,
    body: { active: false, maxDiscount: null },
  })
  t.equal(patched.statusCode, 200)
  t.match(patched.json, { active: false, maxDiscount: null, value: 25 })
  t.same(
    (await call(app, 'GET', '/v1/admin/coupons?active=false', { token: admin.accessToken })).json.items.map(
      (c: { code: string }) => c.code,
    ),
    ['HARMATTAN25'],
  )
  t.equal(
    (await call(app, 'PATCH', `/v1/admin/coupons/${created.json.id}`, { token: admin.accessToken, body: {} }))
      .statusCode,
    400,
    'an empty patch',
  )
  t.equal(
    (
      await call(app, 'PATCH', `/v1/admin/coupons/${created.json.id}`, {
        token: admin.accessToken,
        body: { code: 'NEW' },
      })
    ).statusCode,
    400,
    'the code stays',
  )
  t.equal(
    (
      await call(app, 'PATCH', `/v1/admin/coupons/${flat.json.id}`, {
        token: admin.accessToken,
        body: { type: 'percent' },
      })
    ).statusCode,
    400,
    'flat 50000 cannot become a percent',
  )
  await app.db('coupons').where('id', created.json.id).update({ used_count: 7 })
  t.equal(
    (
      await call(app, 'PATCH', `/v1/admin/coupons/${created.json.id}`, {
        token: admin.accessToken,
        body: { usageLimit: 5 },
      })
    ).json.code,
    'COUPON_LIMIT_BELOW_USES',
  )
  t.equal(
    (
      await call(app, 'PATCH', '/v1/admin/coupons/00000000-0000-4000-8000-000000000000', {
        token: admin.accessToken,
        body: { active: true },
      })
    ).statusCode,
    404,
  )
  t.equal(
    (
      await call(app, 'PATCH', `/v1/admin/coupons/${created.json.id}`, {
        token: user.accessToken,
        body: { active: true },
      })
    ).statusCode,
    403,
  )

  const audits = await app
    .db('audit_log')
    .whereIn('action', ['admin.coupon_created', 'admin.coupon_updated'])
    .orderBy('position')
  t.same(
    audits.map((a) => a.action),
    ['admin.coupon_created', 'admin.coupon_created', 'admin.coupon_updated'],
  )
  t.equal(audits[2].actor_id, admin.id)
  t.match(audits[2], { before: { active: true }, after: { active: false } })
})

void t.test(
  'discounts: percent capped by maxDiscount, flat never beyond the subtotal; locked at checkout',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const [seller, buyer, other] = [await aUser(app), await aUser(app), await aUser(app)]
    const admin = await anAdmin(app)
    const sofa = await aListing(app.db, seller.id, { price: 200_000_00, quantity: 5 })
    const capped = await aCoupon(app, { code: 'CAPPED', type: 'percent', value: 50, max_discount: 30_000_00 })
    await toCart(app, buyer, sofa.id)
    const co = await checkout(app, buyer, { couponCode: 'capped' })
    t.equal(co.statusCode, 201, co.body)
    t.match(co.json.order, { subtotal: 200_000_00, discount: 30_000_00, total: 170_000_00, coupon: { code: 'CAPPED' } })
    t.equal(co.json.payment.amount, 170_000_00, 'Paystack is asked for the discounted total')
    t.equal(
      paystack.callsTo('/transaction/initialize')[0]!.body &&
        (paystack.callsTo('/transaction/initialize')[0]!.body as { amount: string }).amount,
      '17000000',
    )
    // Changing the coupon later does not touch the order.
    await call(app, 'PATCH', `/v1/admin/coupons/${capped.id}`, {
      token: admin.accessToken,
      body: { value: 10, maxDiscount: null },
    })
    t.equal(
      (await call(app, 'GET', `/v1/orders/${co.json.order.id}`, { token: buyer.accessToken })).json.discount,
      30_000_00,
      'locked at checkout',
    )
    t.match(await app.db('coupon_redemptions').where('order_id', co.json.order.id).first(), {
      coupon_id: capped.id,
      user_id: buyer.id,
      discount: 30_000_00,
      released_at: null,
    })

    // A flat coupon bigger than the order makes it free: confirmed at once.
    const cheap = await aListing(app.db, seller.id, { price: 1_000_00 })
    await aCoupon(app, { code: 'BIGFLAT', type: 'flat', value: 5_000_00 })
    await toCart(app, other, cheap.id)
    const free = await checkout(app, other, { couponCode: 'BIGFLAT' })
    t.match(free.json.order, { subtotal: 1_000_00, discount: 1_000_00, total: 0, paymentStatus: 'paid' })
    t.equal(free.json.payment, null)
    t.equal(paystack.callsTo('/transaction/initialize').length, 1, 'no Paystack call for a free order')
  },
)

void t.test('a coupon limited to 3 uses under 20 concurrent checkouts is used at most 3 times', async (t) => {
  const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 25 })
  const seller = await aUser(app)
  const coupon = await aCoupon(app, { code: 'FIRST3', type: 'flat', value: 1_000_00, usage_limit: 3 })
  const buyers = await manyBuyers(app, 20)
  const listings = await Promise.all(buyers.map(() => aListing(app.db, seller.id, { price: 10_000_00 })))
  await fillCarts(
    app,
    buyers.map((b, i) => ({ userId: b.id, listingId: listings[i]!.id })),
  )

  const results = await Promise.all(buyers.map((b) => checkout(app, b, { couponCode: 'FIRST3' })))
  const ok = results.filter((r) => r.statusCode === 201)
  t.equal(ok.length, 3, 'three checkouts got the coupon')
  t.ok(ok.every((r) => r.json.order.discount === 1_000_00))
  const refused = results.filter((r) => r.statusCode !== 201)
  t.equal(refused.length, 17)
  t.ok(
    refused.every((r) => r.statusCode === 409 && r.json.code === 'COUPON_USED_UP'),
    'the rest are told it is used up',
  )
  t.equal((await app.db('coupons').where('id', coupon.id).first())!.used_count, 3)
  t.equal((await app.db('coupon_redemptions').where('coupon_id', coupon.id)).length, 3)
  t.equal(Number((await app.db('reservations').count({ n: '*' }).first())?.n), 3, 'a refused checkout reserves nothing')
  t.equal(paystack.callsTo('/transaction/initialize').length, 3)
})

void t.test('the per-user limit holds under concurrent checkouts by one buyer', async (t) => {
  const { app } = await commerceApp(t, { DATABASE_POOL_MAX: 15 })
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { quantity: 20 })
  await aCoupon(app, { code: 'ONCEEACH', per_user_limit: 1 })
  await toCart(app, buyer, listing.id)
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => checkout(app, buyer, { couponCode: 'ONCEEACH' }, `k${i}`)),
  )
  t.equal(results.filter((r) => r.statusCode === 201).length, 1)
  t.ok(
    results.filter((r) => r.statusCode !== 201).every((r) => r.json.code === 'COUPON_USER_LIMIT'),
    'the others hit the per-user limit',
  )
  t.equal(
    (await call(app, 'PUT', '/v1/cart/coupon', { token: buyer.accessToken, body: { code: 'ONCEEACH' } })).json.code,
    'COUPON_USER_LIMIT',
    'the preview says so too',
  )
})
