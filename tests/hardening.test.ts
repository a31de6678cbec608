/**
 * Regressions of the outside review (hardening issue): each test failed on the code before its fix.
 */
import t from 'tap'
import { spawn } from 'node:child_process'
import { ConfigError, assertSafeToServe, loadConfig } from '../src/config.js'
import { build, call, uniqueEmail } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
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

void t.test('TRUST_PROXY takes a hop count or proxy addresses, never `true`', async (t) => {
  t.throws(() => loadConfig({ TRUST_PROXY: 'true' }), ConfigError, 'true is refused at start')
  t.throws(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' }), ConfigError, 'a bad CIDR is refused')
  t.throws(() => loadConfig({ TRUST_PROXY: 'proxy.internal' }), ConfigError, 'a name is refused')
  t.equal(loadConfig({}).trustProxy, false, 'default: no proxy believed')
  t.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2)
  t.same(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,loopback' }).trustProxy, [
    '10.0.0.0/8',
    '127.0.0.1',
    'loopback',
  ])
})

void t.test('behind one proxy, a forged leftmost X-Forwarded-For does not escape the per-IP limits', async (t) => {
  // Register allows 20 an hour per IP; at scale 0.25 that is 5.
  const app = await build(t, { TRUST_PROXY: '1', RATE_LIMIT_SCALE: 0.25 })
  const register = (forged: string, client: string) =>
    call(app, 'POST', '/v1/auth/register', {
      body: { email: uniqueEmail('xff'), password: 'correct-horse-battery', name: 'Forger' },
      headers: { 'x-forwarded-for': `${forged}, ${client}` },
    })
  const codes: number[] = []
  for (let i = 0; i < 6; i++) codes.push((await register(`203.0.113.${i}`, '198.51.100.7')).statusCode)
  t.same(codes, [201, 201, 201, 201, 201, 429], 'the sixth from the same client is limited, whatever it forges')
  t.equal((await register('203.0.113.99', '198.51.100.8')).statusCode, 201, 'another client is not')
})

void t.test("a client's X-Request-Id never becomes the audit log's key", async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const u = await aUser(app)
  const forged = 'forged\u202e-id-' + 'x'.repeat(300)
  const ban = await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'spam' },
    headers: { 'x-request-id': forged },
  })
  t.equal(ban.statusCode, 200, ban.body)
  t.match(ban.headers['x-request-id'], /^[0-9a-f-]{36}$/, "the answer carries the server's own id")
  const row = await app.db('audit_log').where({ action: 'admin.user_banned' }).first('request_id')
  t.equal(row?.request_id, ban.headers['x-request-id'], "the audit row is keyed by the server's id")

  const wellFormed = await call(app, 'POST', `/v1/admin/users/${u.id}/unban`, {
    token: admin.accessToken,
    headers: { 'x-request-id': 'trace-123' },
  })
  const unbanRow = await app.db('audit_log').where({ action: 'admin.user_unbanned' }).first('request_id')
  t.not(unbanRow?.request_id, 'trace-123', 'even a well-formed client id is not the audit key')
  t.equal(unbanRow?.request_id, wellFormed.headers['x-request-id'])
})

void t.test('NODE_ENV left unset on a real database without secrets: the server refuses to start', async (t) => {
  const unsafe = loadConfig({ DATABASE_URL: 'postgres://x/y' })
  t.throws(
    () => assertSafeToServe(unsafe),
    /NODE_ENV: unset on a real database without JWT_SECRET and PAYSTACK_SECRET_KEY/,
  )
  t.doesNotThrow(() => assertSafeToServe(loadConfig({ DATABASE_URL: 'postgres://x/y', NODE_ENV: 'development' })))
  t.doesNotThrow(() => assertSafeToServe(loadConfig({})), 'embedded PGlite is development by nature')
  t.doesNotThrow(() =>
    assertSafeToServe(
      loadConfig({ DATABASE_URL: 'postgres://x/y', JWT_SECRET: 'k'.repeat(32), PAYSTACK_SECRET_KEY: 'sk_live_x' }),
    ),
  )

  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: 'postgres://127.0.0.1:1/none',
  }
  const child = spawn(process.execPath, ['--import=tsx', 'src/server.ts'], { env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
  t.equal(code, 1, 'exits with 1')
  t.match(stderr, /NODE_ENV: unset on a real database/, 'and says why')
})

void t.test('with proxy addresses, a peer that is not one of them is taken at its word, not its header', async (t) => {
  // app.inject connects from 127.0.0.1, which is not in 10.0.0.0/8: its X-Forwarded-For is ignored.
  const app = await build(t, { TRUST_PROXY: '10.0.0.0/8', RATE_LIMIT_SCALE: 0.25 })
  const codes: number[] = []
  for (let i = 0; i < 6; i++) {
    const res = await call(app, 'POST', '/v1/auth/register', {
      body: { email: uniqueEmail('cidr'), password: 'correct-horse-battery', name: 'Forger' },
      headers: { 'x-forwarded-for': `203.0.113.${i}` },
    })
    codes.push(res.statusCode)
  }
  t.same(codes, [201, 201, 201, 201, 201, 429], 'every forged address counts as the one peer')
})
