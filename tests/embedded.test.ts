/**
 * `npm install && npm start` runs on embedded defaults: PGlite instead of PostgreSQL (the
 * same migrations and the same SQL), no Redis (in-memory limits and sockets), local image
 * storage and the built-in Paystack simulator, seeded with demo data. This test builds the
 * app exactly that way (a fresh PGlite directory) and walks the paths whose SQL is the most
 * particular: search, checkout's data-modifying CTEs, payment through the simulator's
 * signed webhook, and chat.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { ADDRESS } from './factories/commerce.js'

void t.test(
  'embedded defaults: PGlite with demo data, search, checkout paid through the simulator, chat',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'oja-embedded-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const config = loadConfig(
      {},
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        PGLITE_DIR: join(dir, 'pgdata'),
        UPLOADS_DIR: join(dir, 'uploads'),
        JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
        RATE_LIMIT_SCALE: 0,
        PUBLIC_URL: 'http://oja.test',
      },
    )
    t.equal(config.DATABASE_URL, undefined, 'no DATABASE_URL: embedded PGlite')
    t.equal(config.REDIS_URL, undefined, 'no REDIS_URL')
    t.equal(config.seedDemo, true, 'demo data by default')
    const app = await buildApp(config, { background: false })
    t.teardown(async () => {
      await app.commerce.idle()
      await app.close()
    })
    await app.ready()

    const ready = await call(app, 'GET', '/ready')
    t.equal(ready.statusCode, 200, ready.body)
    const demo = Number((await app.db('listings').where('status', 'active').count({ n: '*' }).first())?.n)
    t.ok(demo > 0, `demo listings are there (${demo})`)

    // Search: full text with stemming, and a category subtree.
    const furniture = (await app.db('categories').where('slug', 'furniture').first('id')) as { id: string }
    const browse = await call(app, 'GET', `/v1/listings?categoryId=${furniture.id}&limit=5`)
    t.equal(browse.statusCode, 200, browse.body)
    t.ok(browse.json.items.length > 0, 'the furniture subtree has demo listings')
    const anyTitle = (browse.json.items[0] as { title: string }).title
    const word = anyTitle.split(/\s+/).find((w) => w.length > 3) ?? anyTitle
    const search = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent(word)}&limit=5`)
    t.equal(search.statusCode, 200, search.body)
    t.ok(search.json.items.length > 0, `"${word}" finds something`)

    // A purchase end to end: cart, checkout (CTE writes, locked read + reservations), the
    // simulator's hosted page, its signed webhook, paid.
    const buyer = await aUser(app)
    const listing = (await app
      .db('listings')
      .where({ status: 'active', type: 'sale' })
      // More than one unit: still on sale after this purchase, so the buyer can open a chat about it.
      .where('quantity', '>', 1)
      .whereRaw('price > 0')
      .first('id', 'seller_id', 'quantity')) as { id: string; seller_id: string; quantity: number }
    t.equal(
      (await call(app, 'PUT', `/v1/cart/items/${listing.id}`, { token: buyer.accessToken, body: { quantity: 1 } }))
        .statusCode,
      200,
    )
    const co = await call(app, 'POST', '/v1/checkout', {
      token: buyer.accessToken,
      body: { address: ADDRESS },
      headers: { 'idempotency-key': 'embedded-1' },
    })
    t.equal(co.statusCode, 201, co.body)
    t.equal(co.json.order.paymentStatus, 'pending')
    t.equal((await app.db('reservations').where('order_id', co.json.order.id)).length, 1, 'one reservation')
    const replay = await call(app, 'POST', '/v1/checkout', {
      token: buyer.accessToken,
      body: { address: ADDRESS },
      headers: { 'idempotency-key': 'embedded-1' },
    })
    t.equal(replay.json.order.id, co.json.order.id, 'the replay answers the first response')
    const page = new URL(co.json.payment.authorizationUrl).pathname
    const paid = await app.inject({
      method: 'POST',
      url: `${page}/pay`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    })
    t.equal(paid.statusCode, 303)
    await app.commerce.idle()
    const order = await call(app, 'GET', `/v1/orders/${co.json.order.id}`, { token: buyer.accessToken })
    t.equal(order.json.paymentStatus, 'paid', 'paid by the simulator’s signed webhook')
    t.equal(
      ((await app.db('listings').where('id', listing.id).first('sold_quantity')) as { sold_quantity: number })
        .sold_quantity > 0,
      true,
      'the unit is sold',
    )

    // Chat over REST with the seller of that listing.
    const conv = await call(app, 'POST', '/v1/conversations', {
      token: buyer.accessToken,
      body: { listingId: listing.id },
    })
    t.ok([200, 201].includes(conv.statusCode), conv.body)
    const sent = await call(app, 'POST', `/v1/conversations/${conv.json.id}/messages`, {
      token: buyer.accessToken,
      body: { body: 'Thank you!', clientId: 'c-1' },
    })
    t.equal(sent.statusCode, 201, sent.body)
    const history = await call(app, 'GET', `/v1/conversations/${conv.json.id}/messages`, { token: buyer.accessToken })
    t.ok((history.json.items as { body: string }[]).some((m) => m.body === 'Thank you!'))

    // Seller money: the demo seller has pending, available and paid-out money, and a live
    // payout goes through the simulator's transfer and its signed transfer.success webhook.
    const login = async (email: string) =>
      (await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'demo-password' } })).json
        .accessToken as string
    const ada = await login('ada@demo.oja')
    const balance = await call(app, 'GET', '/v1/me/balance', { token: ada })
    t.same(
      balance.json,
      { currency: 'NGN', pending: 2_365_625, available: 703_250, onHold: 0, inTransit: 0, paidOut: 1_000_000 },
      'the demo seller: a bookshelf in escrow, the rest of a fan released, ₦10,000 paid out',
    )
    const banks = await call(app, 'GET', '/v1/banks', { token: ada })
    t.ok(banks.json.length > 5, 'banks from the simulator')
    const account = await call(app, 'PUT', '/v1/me/payout-account', {
      token: ada,
      body: { bankCode: '058', accountNumber: '0123456789' },
    })
    t.equal(account.statusCode, 200, account.body)
    const payout = await call(app, 'POST', '/v1/payouts', {
      token: ada,
      body: {},
      headers: { 'idempotency-key': 'embedded-payout' },
    })
    t.equal(payout.statusCode, 201, payout.body)
    t.equal(payout.json.amount, 703_250, 'all of available by default')
    let status = payout.json.status as string
    for (let i = 0; i < 60 && status !== 'paid'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      await app.commerce.idle()
      status = (await call(app, 'GET', `/v1/payouts/${payout.json.id}`, { token: ada })).json.status
    }
    t.equal(status, 'paid', 'paid by the simulator’s signed transfer.success')
    t.match((await call(app, 'GET', '/v1/me/balance', { token: ada })).json, { available: 0, paidOut: 1_703_250 })
    const check = await call(app, 'GET', '/v1/admin/ledger/check', { token: await login('admin@demo.oja') })
    t.same(check.json, { balanced: true, mismatches: [] }, 'the ledger agrees with itself and the simulator')
  },
)
