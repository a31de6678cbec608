/**
 * Regressions of the outside review (hardening issue): each test failed on the code before its fix.
 */
import t from 'tap'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { ADDRESS, commerceApp, postWebhook } from './factories/commerce.js'

const UTF8 = 'application/json; charset=utf-8'

void t.test('JSON with a charset parameter is accepted on cart, checkout and the webhook', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { quantity: 2 })

  const put = await call(app, 'PUT', `/v1/cart/items/${listing.id}`, {
    token: buyer.accessToken,
    body: { quantity: 1 },
    headers: { 'content-type': UTF8 },
  })
  t.equal(put.statusCode, 200, put.body)

  const co = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: { address: ADDRESS },
    headers: { 'content-type': 'application/json;charset=UTF-8', 'idempotency-key': 'charset-1' },
  })
  t.equal(co.statusCode, 201, co.body)

  const reference = co.json.payment.reference as string
  paystack.pay(reference)
  const hook = paystack.chargeSuccess(reference)
  const res = await postWebhook(app, { payload: hook.payload, headers: { ...hook.headers, 'content-type': UTF8 } })
  t.equal(res.statusCode, 200, res.body)
  await app.commerce.idle()
  t.equal(
    (await app.db('orders').where('id', co.json.order.id).first('payment_status'))?.payment_status,
    'paid',
    'the webhook with a charset paid the order',
  )
})

void t.test('JSON in another charset is refused with 415 and changes nothing', async (t) => {
  const { app } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id)
  const put = await call(app, 'PUT', `/v1/cart/items/${listing.id}`, {
    token: buyer.accessToken,
    body: { quantity: 1 },
    headers: { 'content-type': 'application/json; charset=iso-8859-1' },
  })
  t.equal(put.statusCode, 415)
  t.equal(put.json.code, 'UNSUPPORTED_MEDIA_TYPE')
  t.equal(put.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(Number((await app.db('cart_items').count({ n: '*' }).first())?.n), 0, 'no cart line')
})
