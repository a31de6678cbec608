import t from 'tap'
import { ConfigError, loadConfig, parseCallbackOrigins } from '../src/config.js'
import { isCallbackUrlAllowed } from '../src/checkout/callback-url.js'
import { build, call, type TestApp } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { checkout, toCart } from './factories/commerce.js'

const ORIGINS = 'ojaapp://, https://app.example.com'

async function cartOf(app: TestApp) {
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { price: 5_000_00, quantity: 5 })
  await toCart(app, buyer, listing.id)
  return { buyer, listing }
}

void t.test('PAYMENT_CALLBACK_ORIGINS is read as a list of scheme prefixes', async (t) => {
  t.same(parseCallbackOrigins(ORIGINS), ['ojaapp://', 'https://app.example.com'])
  t.equal(parseCallbackOrigins(undefined), undefined)
  t.equal(parseCallbackOrigins(' '), undefined)
  t.type(parseCallbackOrigins('app.example.com'), 'string', 'no scheme')
  t.type(parseCallbackOrigins('javascript://x'), 'string', 'a script scheme')
  t.throws(() => loadConfig({ PAYMENT_CALLBACK_ORIGINS: 'ojaapp://,nope' }), ConfigError)
  t.same(loadConfig({ PAYMENT_CALLBACK_ORIGINS: ORIGINS }).paymentCallbackOrigins, [
    'ojaapp://',
    'https://app.example.com',
  ])
})

void t.test('a callbackUrl must start with an allowed prefix, at a boundary', async (t) => {
  const origins = ['ojaapp://', 'https://app.example.com']
  for (const ok of [
    'ojaapp://payment-done',
    'ojaapp://payment-done?x=1',
    'https://app.example.com',
    'https://app.example.com/paid?order=1',
    'https://app.example.com#done',
  ])
    t.ok(isCallbackUrlAllowed(ok, origins), ok)
  for (const bad of [
    'https://app.example.com.evil.test/paid',
    'https://app.example.com@evil.test/',
    'https://evil.test/https://app.example.com',
    'otherapp://payment-done',
    'http://app.example.com/paid',
    'javascript:alert(1)',
    'ojaapp://payment done',
    'ojaapp://x\n',
  ])
    t.notOk(isCallbackUrlAllowed(bad, origins), JSON.stringify(bad))
  // Without a list: http(s) only.
  t.ok(isCallbackUrlAllowed('https://shop.test/paid', undefined))
  t.ok(isCallbackUrlAllowed('http://localhost:5173/paid', undefined))
  for (const bad of ['ojaapp://payment-done', 'javascript:alert(1)', 'data:text/html,x', 'https://', 'ftp://x.test/'])
    t.notOk(isCallbackUrlAllowed(bad, undefined), bad)
})

void t.test('an app scheme allowed: checkout accepts it and Paystack sends the payer back to the app', async (t) => {
  // The built-in simulator plays Paystack: its hosted page redirects to callback_url as Paystack does.
  const app = await build(t, { PAYMENT_CALLBACK_ORIGINS: ORIGINS })
  t.teardown(() => app.commerce.idle())
  const { buyer } = await cartOf(app)

  const refused = await checkout(app, buyer, { callbackUrl: 'otherapp://payment-done' })
  t.equal(refused.statusCode, 400)
  t.equal(refused.json.code, 'CALLBACK_URL_NOT_ALLOWED')
  const https = await checkout(app, buyer, { callbackUrl: 'https://evil.test/paid' })
  t.equal(https.json.code, 'CALLBACK_URL_NOT_ALLOWED', 'a listed prefix is required for https too')
  t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 0, 'nothing was ordered')

  const co = await checkout(app, buyer, { callbackUrl: 'ojaapp://payment-done' })
  t.equal(co.statusCode, 201, co.body)
  const { payment, order } = co.json
  const paid = await app.inject({
    method: 'POST',
    url: `${new URL(payment.authorizationUrl).pathname}/pay`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  })
  t.equal(paid.statusCode, 303, 'the browser is sent on')
  const back = new URL(paid.headers.location as string)
  t.equal(back.protocol, 'ojaapp:')
  t.equal(back.host + back.pathname, 'payment-done')
  t.equal(back.searchParams.get('reference'), payment.reference, 'the app hears the reference')
  const verified = await call(app, 'POST', `/v1/orders/${order.id}/verify-payment`, { token: buyer.accessToken })
  t.equal(verified.statusCode, 200, verified.body)
  t.equal(verified.json.paymentStatus, 'paid')

  // The web app's origin is listed too.
  await toCart(app, buyer, (await aListing(app.db, (await aUser(app)).id, { price: 1_000_00 })).id)
  const web = await checkout(app, buyer, { callbackUrl: 'https://app.example.com/orders/paid' })
  t.equal(web.statusCode, 201, web.body)
})

void t.test('PAYMENT_CALLBACK_ORIGINS unset: any http(s) URL, nothing else', async (t) => {
  const app = await build(t)
  t.teardown(() => app.commerce.idle())
  const { buyer } = await cartOf(app)
  for (const bad of ['ojaapp://payment-done', 'javascript:alert(1)', 'data:text/html,hi']) {
    const res = await checkout(app, buyer, { callbackUrl: bad })
    t.equal(res.statusCode, 400, bad)
    t.equal(res.json.code, 'CALLBACK_URL_NOT_ALLOWED', bad)
  }
  const ok = await checkout(app, buyer, { callbackUrl: 'https://shop.test/paid' })
  t.equal(ok.statusCode, 201, ok.body)
  const paid = await app.inject({
    method: 'POST',
    url: `${new URL(ok.json.payment.authorizationUrl).pathname}/pay`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: '',
  })
  t.match(paid.headers.location, /^https:\/\/shop\.test\/paid\?/)
})
