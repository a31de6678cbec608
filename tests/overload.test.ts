/**
 * Admission control: while ADMISSION_DB_QUEUE requests already wait for a database
 * connection, a new REST request is refused at once with 503 OVERLOADED and Retry-After, a
 * socket request with an ack of that code; nothing is done for them. Health checks and
 * Paystack's webhook are still admitted; once the pool frees up, everything is served again.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { call, testDatabase } from './helpers/app.js'
import { connect, request, startNode } from './helpers/nodes.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'

void t.test(
  'past the admitted queue: 503 OVERLOADED on REST, an OVERLOADED ack on the socket, nothing done',
  async (t) => {
    const node = await startNode(t, await testDatabase(t), { env: { DATABASE_POOL_MAX: 2, ADMISSION_DB_QUEUE: 3 } })
    const app = node.app
    const [seller, buyer] = [await aUser(app), await aUser(app)]
    const listing = await aListing(app.db, seller.id)
    const opened = await call(app, 'POST', '/v1/conversations', {
      token: buyer.accessToken,
      body: { listingId: listing.id },
    })
    const conversationId = opened.json.id as string
    const client = await connect(t, node, { token: buyer.accessToken })
    const messagesBefore = Number((await app.db('messages').count({ n: '*' }).first())!.n)

    // Fill the pool (2 transactions) and its admitted queue (3 waiting queries).
    const held: Knex.Transaction[] = await Promise.all([app.db.transaction(), app.db.transaction()])
    // (A Knex query runs once it is awaited or then-ed.)
    const waiting = Array.from({ length: 3 }, () => app.db.raw('select 1').then(() => undefined))
    await new Promise((r) => setTimeout(r, 50))
    t.ok(app.overloaded(), 'the node sees itself at capacity')

    const refused = await call(app, 'GET', '/v1/me', { token: buyer.accessToken })
    t.equal(refused.statusCode, 503)
    t.equal(refused.json.code, 'OVERLOADED')
    t.equal(refused.headers['retry-after'], '1')
    const post = await call(app, 'POST', `/v1/conversations/${conversationId}/messages`, {
      token: buyer.accessToken,
      body: { body: 'refused', clientId: randomUUID() },
    })
    t.equal(post.json.code, 'OVERLOADED', 'a REST send is refused too')
    const ack = await request(client.socket, 'message:send', {
      conversationId,
      body: 'refused over the socket',
      clientId: randomUUID(),
    })
    t.same(ack, {
      ok: false,
      code: 'OVERLOADED',
      message: 'The server is at capacity; try again in a moment',
      retryAfter: 1,
    })
    const health = await call(app, 'GET', '/health')
    t.equal(health.statusCode, 200, 'health checks are admitted')

    // The pool frees up: everything is served again, and nothing refused was stored.
    await Promise.all(held.map((trx) => trx.rollback()))
    await Promise.all(waiting)
    t.notOk(app.overloaded())
    const sent = await request(client.socket, 'message:send', {
      conversationId,
      body: 'now it goes',
      clientId: randomUUID(),
    })
    t.equal(sent.ok, true, JSON.stringify(sent))
    const bodies = (await app.db('messages').where('conversation_id', conversationId).pluck('body')) as string[]
    t.notOk(bodies.includes('refused') || bodies.includes('refused over the socket'), 'refused sends stored nothing')
    t.equal(Number((await app.db('messages').count({ n: '*' }).first())!.n), messagesBefore + 1)
    t.equal((await call(app, 'GET', '/v1/me', { token: buyer.accessToken })).statusCode, 200)
  },
)

void t.test('an event loop late past ADMISSION_EVENT_LOOP_DELAY_MS refuses new work until it catches up', async (t) => {
  // 250 ms: far above what a loaded test machine's loop lags by, far below the busy stretch below.
  const node = await startNode(t, await testDatabase(t), { env: { ADMISSION_EVENT_LOOP_DELAY_MS: 250 } })
  const app = node.app
  const admitted = async () => {
    for (let i = 0; i < 300 && app.overloaded(); i++) await new Promise((r) => setTimeout(r, 10))
    return !app.overloaded()
  }
  t.ok(await admitted(), 'an idle node admits')
  const user = await aUser(app)
  t.ok(await admitted())
  t.equal((await call(app, 'GET', '/v1/me', { token: user.accessToken })).statusCode, 200)

  // The process busy for 600 ms at a stretch (as when it takes more than its CPU can do);
  // the window that saw it closes within the next 250 ms.
  const end = Date.now() + 600
  while (Date.now() < end) {
    /* busy */
  }
  for (let i = 0; i < 60 && !app.overloaded(); i++) await new Promise((r) => setTimeout(r, 10))
  t.ok(app.overloaded(), 'the late loop is seen')
  const refused = await call(app, 'GET', '/v1/me', { token: user.accessToken })
  t.equal(refused.statusCode, 503)
  t.equal(refused.json.code, 'OVERLOADED')
  t.equal(refused.headers['retry-after'], '1')
  t.equal((await call(app, 'GET', '/health')).statusCode, 200, 'health is admitted')

  t.ok(await admitted(), 'caught up: admitted again')
  t.equal((await call(app, 'GET', '/v1/me', { token: user.accessToken })).statusCode, 200)
})
