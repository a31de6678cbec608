import t from 'tap'
import { buildApp } from '../src/app.js'
import { createDb } from '../src/db/index.js'
import { build, call, testConfig, testDatabase } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { checkout, toCart } from './factories/commerce.js'

void t.test('without PAYSTACK_SECRET_KEY the built-in simulator runs the whole purchase', async (t) => {
  const app = await build(t)
  t.teardown(() => app.commerce.idle())
  t.ok(app.commerce.simulator, 'the simulator is on')
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id, { price: 7_500_00, quantity: 2 })
  await toCart(app, buyer, listing.id)
  const co = await checkout(app, buyer)
  t.equal(co.statusCode, 201, co.body)
  const { payment, order } = co.json
  t.match(payment.authorizationUrl, /^http:\/\/oja\.test\/paystack-sim\/checkout\/\w+$/)

  const page = await app.inject({ method: 'GET', url: new URL(payment.authorizationUrl).pathname })
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /text\/html/)
  t.match(page.body, />Pay</)
  t.match(page.body, />Fail</)
  t.match(page.body, /NGN 7,500\.00/)

  const paid = await app.inject({
    method: 'POST',
    url: `${new URL(payment.authorizationUrl).pathname}/pay`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  })
  t.equal(paid.statusCode, 303, 'back to the app')
  const callback = new URL(paid.headers.location as string)
  t.equal(callback.origin + callback.pathname, 'http://oja.test/v1/payments/paystack/callback')
  t.equal(callback.searchParams.get('reference'), payment.reference)
  await app.commerce.idle()
  t.equal(
    (await app.db('orders').where('id', order.id).first())!.payment_status,
    'paid',
    'the signed webhook made it paid',
  )
  t.equal((await app.db('payment_events').first())!.event, 'charge.success')
  const landing = await app.inject({ method: 'GET', url: callback.pathname + callback.search })
  t.equal(landing.statusCode, 200)
  t.match(landing.body, /Payment confirmed/)

  // Fail: no webhook; the app's verify hears "failed".
  await toCart(app, buyer, listing.id)
  const second = (await checkout(app, buyer)).json
  const failed = await app.inject({
    method: 'POST',
    url: `${new URL(second.payment.authorizationUrl).pathname}/fail`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  })
  t.equal(failed.statusCode, 303)
  const v = await call(app, 'POST', `/v1/orders/${second.order.id}/verify-payment`, { token: buyer.accessToken })
  t.equal(v.json.code, 'PAYMENT_NOT_VERIFIED')
  t.equal(v.json.providerStatus, 'failed')

  // Refunds go through the simulator too.
  const refund = await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
    token: admin.accessToken,
    body: { reason: 'Demo' },
  })
  t.equal(refund.statusCode, 201, refund.body)
  t.equal(refund.json.refund.status, 'processing')

  // Its API wants the key, like Paystack's.
  const noKey = await app.inject({ method: 'GET', url: `/paystack-sim/transaction/verify/${payment.reference}` })
  t.equal(noKey.statusCode, 401)
  t.same(noKey.json(), { status: false, message: 'Invalid key' })
  t.equal((await app.inject({ method: 'GET', url: '/paystack-sim/checkout/nope' })).statusCode, 404)
  const docs = await app.inject({ method: 'GET', url: '/docs/json' })
  const paths = Object.keys(docs.json().paths)
  t.notOk(
    paths.some((p) => p.startsWith('/paystack-sim')),
    'the simulator is not in the API documentation',
  )
  for (const p of [
    '/v1/cart',
    '/v1/cart/items/{listingId}',
    '/v1/cart/coupon',
    '/v1/checkout',
    '/v1/orders',
    '/v1/orders/{id}',
    '/v1/orders/{id}/verify-payment',
    '/v1/orders/{id}/cancel',
    '/v1/sales',
    '/v1/shipments/{id}/status',
    '/v1/shipments/{id}/received',
    '/v1/webhooks/paystack',
    '/v1/admin/coupons',
    '/v1/admin/coupons/{id}',
    '/v1/admin/orders/{id}/refund',
  ]) {
    t.ok(paths.includes(p), `${p} is documented`)
  }
})

void t.test('production refuses to start without a Paystack key', async (t) => {
  const testDb = await testDatabase(t)
  const db = await createDb(testConfig(testDb))
  t.teardown(() => db.destroy())
  await t.rejects(
    buildApp(testConfig(testDb, { NODE_ENV: 'production' }), { db, redis: null, background: false }),
    /PAYSTACK_SECRET_KEY is required/,
  )
})
