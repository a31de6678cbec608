import t from 'tap'
import Fastify from 'fastify'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { ADDRESS, checkout, commerceApp, toCart } from './factories/commerce.js'
import { idempotencyPlugin } from '../src/idempotency/index.js'
import { errorsPlugin } from '../src/http/errors.plugin.js'

void t.test('the same key and body replays the first response; another body is refused', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, buyer, other] = [await aUser(app), await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 5 })
  await toCart(app, buyer, listing.id)

  const first = await checkout(app, buyer, {}, 'order-key-1')
  t.equal(first.statusCode, 201)
  t.notOk(first.headers['idempotent-replayed'])
  const replay = await checkout(app, buyer, {}, 'order-key-1')
  t.equal(replay.statusCode, 201, 'same status')
  t.equal(replay.body, first.body, 'byte for byte the same body')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.match(replay.headers['content-type'], /^application\/json/)
  t.equal(first.headers.location, `/v1/orders/${first.json.order.id}`, 'Location names the order')
  t.equal(replay.headers.location, first.headers.location, 'and the replay keeps it')
  // Key order in the body does not make it another request.
  const reordered = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: `{"address":${JSON.stringify({ state: ADDRESS.state, city: ADDRESS.city, line1: ADDRESS.line1, phone: ADDRESS.phone, fullName: ADDRESS.fullName })}}`,
    headers: { 'idempotency-key': 'order-key-1' },
  })
  t.equal(reordered.body, first.body)
  t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 1, 'one order')
  t.equal(paystack.callsTo('/transaction/initialize').length, 1, 'one Paystack payment')

  const reused = await checkout(app, buyer, { callbackUrl: 'https://elsewhere.test/' }, 'order-key-1')
  t.equal(reused.statusCode, 409)
  t.equal(reused.json.code, 'IDEMPOTENCY_KEY_REUSED')

  // Keys belong to a user.
  await toCart(app, other, listing.id)
  const theirs = await checkout(app, other, {}, 'order-key-1')
  t.equal(theirs.statusCode, 201)
  t.not(theirs.json.order.id, first.json.order.id)

  // Client errors are answers too: replayed.
  const emptyBuyer = await aUser(app)
  const empty = await checkout(app, emptyBuyer, {}, 'empty-1')
  t.equal(empty.json.code, 'CART_EMPTY')
  await toCart(app, emptyBuyer, listing.id)
  const stillEmpty = await checkout(app, emptyBuyer, {}, 'empty-1')
  t.equal(stillEmpty.statusCode, 409)
  t.equal(stillEmpty.body, empty.body)
  t.match(stillEmpty.headers['content-type'], /^application\/problem\+json/)

  // After 24 h the key is forgotten.
  await app
    .db('idempotency_keys')
    .where('key', 'empty-1')
    .update({ created_at: app.db.raw("now() - interval '25 hours'") })
  t.equal((await checkout(app, emptyBuyer, {}, 'empty-1')).statusCode, 201, 'executed afresh')
})

void t.test('concurrent duplicates: one executes, the others replay it or are told it is in progress', async (t) => {
  const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 20 })
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 10 })
  await toCart(app, buyer, listing.id)
  const results = await Promise.all(Array.from({ length: 25 }, () => checkout(app, buyer, {}, 'double-click')))
  const created = results.filter((r) => r.statusCode === 201)
  t.ok(created.length >= 1)
  t.ok(
    results.every((r) => r.statusCode === 201 || r.json.code === 'IDEMPOTENCY_KEY_IN_PROGRESS'),
    results.map((r) => r.statusCode).join(','),
  )
  t.equal(new Set(created.map((r) => r.body)).size, 1, 'every success is the same answer')
  t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 1, 'one order')
  t.equal(paystack.callsTo('/transaction/initialize').length, 1)
  t.equal(Number((await app.db('reservations').count({ n: '*' }).first())?.n), 1)
})

void t.test('the plugin on its own: in-progress answers, 5xx not stored, keys only where configured', async (t) => {
  // A tiny app with the plugin and a slow route, against the test database.
  const { app: main } = await commerceApp(t)
  const user = await aUser(main)
  const fastify = Fastify()
  t.teardown(() => fastify.close())
  await fastify.register(errorsPlugin)
  fastify.decorateRequest('actor', undefined)
  fastify.addHook('onRequest', async (req) => {
    req.actor = { id: user.id, role: 'user', sessionId: 's' }
  })
  let runs = 0
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let started!: () => void
  const running = new Promise<void>((r) => (started = r))
  await fastify.register(async (scope) => {
    await scope.register(idempotencyPlugin, { db: main.db, waitMs: 200 })
    scope.post('/slow', { config: { idempotency: 'required' } }, async () => {
      runs++
      started()
      await gate
      return { run: runs }
    })
    let failures = 0
    scope.post('/flaky', { config: { idempotency: 'optional' } }, async (_req, reply) => {
      failures++
      if (failures === 1) return reply.code(503).send({ failed: true })
      return { ok: failures }
    })
    scope.post('/plain', async () => ({ runs: ++runs }))
  })
  const post = (url: string, key?: string, body: unknown = { a: 1 }) =>
    fastify.inject({ method: 'POST', url, payload: body as object, headers: key ? { 'idempotency-key': key } : {} })

  const slow = post('/slow', 'k1')
  await running // the first request holds the key and is inside the handler
  const dup = await post('/slow', 'k1')
  t.equal(dup.statusCode, 409)
  t.equal(dup.json().code, 'IDEMPOTENCY_KEY_IN_PROGRESS')
  t.equal(dup.headers['retry-after'], '1')
  release()
  t.same((await slow).json(), { run: 1 })
  t.same((await post('/slow', 'k1')).json(), { run: 1 }, 'replayed once done')
  t.equal(runs, 1)
  t.equal((await post('/slow')).json().code, 'IDEMPOTENCY_KEY_REQUIRED')

  t.equal((await post('/flaky', 'k2')).statusCode, 503)
  const retried = await post('/flaky', 'k2')
  t.equal(retried.statusCode, 200, 'a 5xx was not stored: the retry runs')
  t.same(retried.json(), { ok: 2 })
  t.same((await post('/flaky', 'k2')).json(), { ok: 2 })
  t.equal((await post('/flaky')).statusCode, 200, 'optional: no key, no bookkeeping')
  t.equal((await post('/plain', 'k3')).statusCode, 200)
  t.equal((await post('/plain', 'k3')).json().runs, runs, 'routes without the config ignore the header')
  t.equal(Number((await main.db('idempotency_keys').where('key', 'k3').count({ n: '*' }).first())?.n), 0)
})
