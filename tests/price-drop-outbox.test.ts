/**
 * The price-drop outbox (issue 16): the PATCH commits the price and ONE outbox row; workers on
 * any node fan it out in batches, exactly once, resuming after a crash where they stopped.
 */
import t from 'tap'
import type { Test } from 'tap'
import type { OjaApp } from '../src/app.js'
import { PriceDropWorker, type FanoutBatch } from '../src/wishlists/index.js'
import { build, call, type Json, type LooseDb } from './helpers/app.js'
import { connect, startNodes } from './helpers/nodes.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'

/** `n` wishlisters of the listing straight in the database; returns their ids in user id order. */
async function wishlisters(db: LooseDb, listingId: string, n: number, tag: string): Promise<string[]> {
  const { rows } = (await db.raw(
    `with u as (
       insert into users (email, password_hash, name)
       select format('fan-%s-%s@test.oja', ?::text, g), 'x', 'Fan ' || g from generate_series(1, ?) g
       returning id
     ), w as (insert into wishlists (user_id, listing_id) select id, ? from u returning user_id)
     select user_id from w order by user_id`,
    [tag, n, listingId],
  )) as { rows: { user_id: string }[] }
  return rows.map((r) => r.user_id)
}

const patchPrice = (app: OjaApp, token: string, listingId: string, price: number) =>
  call(app, 'PATCH', `/v1/listings/${listingId}`, { token, body: { price } })

/** The price-drop notifications of a listing: per user, how many, and their data. */
async function alertsOf(db: LooseDb, listingId: string): Promise<Map<string, Json[]>> {
  const rows = (await db('notifications')
    .where('type', 'price_drop')
    .whereRaw("data->>'listingId' = ?", [listingId])
    .orderBy('created_at')
    .select('user_id', 'data')) as { user_id: string; data: Json }[]
  const out = new Map<string, Json[]>()
  for (const r of rows) out.set(r.user_id, [...(out.get(r.user_id) ?? []), r.data])
  return out
}

const fanoutsOf = (db: LooseDb, listingId: string) =>
  db('price_drop_fanouts').where('listing_id', listingId).orderBy('id') as Promise<Json[]>

/** Waits until `check` holds (polling), failing the test after `ms`. */
async function until(t: Test, what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) {
      t.fail(`timed out waiting for ${what}`)
      return
    }
    await new Promise((r) => setTimeout(r, 20))
  }
}

void t.test('the PATCH commits the price and exactly one outbox row; a rollback leaves neither', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const listing = await aListing(app.db, seller.id, { price: 100_000_00 })
  const fans = await wishlisters(app.db, listing.id, 300, 'one-row')
  const blocker = await aUser(app)
  await app.db('wishlists').insert([
    { user_id: blocker.id, listing_id: listing.id },
    // A seller cannot favourite their own listing through the API; if they did, no alert.
    { user_id: seller.id, listing_id: listing.id },
  ])
  await app.db('blocks').insert({ blocker_id: blocker.id, blocked_id: seller.id })

  const statements: string[] = []
  const listener = (q: { sql: string }) => statements.push(q.sql)
  app.db.on('query', listener)
  const res = await patchPrice(app, seller.accessToken, listing.id, 90_000_00)
  app.db.removeListener('query', listener)
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json.price, 90_000_00)
  t.equal(statements.filter((s) => /insert into "price_drop_fanouts"/i.test(s)).length, 1, 'one outbox INSERT')
  t.notOk(
    statements.some((s) => /insert into (notifications|user_events|price_drop_alerts)/i.test(s)),
    'no alert written by the PATCH itself',
  )
  const rows = await fanoutsOf(app.db, listing.id)
  t.equal(rows.length, 1, 'exactly one outbox row')
  t.match(rows[0], {
    old_price: 100_000_00,
    new_price: 90_000_00,
    currency: 'NGN',
    cursor_user_id: null,
    finished_at: null,
  })
  t.equal((await alertsOf(app.db, listing.id)).size, 0, 'nobody alerted before the worker runs')

  // The worker (this node started without its background loops: one drain) alerts each
  // eligible wishlister once, in batches of PRICE_DROP_BATCH (2000 by default: one here).
  const batches = await app.priceDrops.drain()
  t.equal(batches.length, 1)
  const alerts = await alertsOf(app.db, listing.id)
  t.equal(alerts.size, 300, 'every wishlister but the seller and the one who blocked them')
  t.ok(
    fans.every((id) => alerts.get(id)?.length === 1),
    'one alert each',
  )
  t.notOk(alerts.has(seller.id), 'the seller is never alerted')
  t.notOk(alerts.has(blocker.id), 'across a block nobody is alerted')
  t.same(alerts.get(fans[0]!), [{ listingId: listing.id, oldPrice: 100_000_00, newPrice: 90_000_00, currency: 'NGN' }])
  t.match((await fanoutsOf(app.db, listing.id))[0], { outcome: 'done', alerted: 300, batches: 1 })
  t.same(await app.priceDrops.drain(), [], 'nothing left to do')

  // A PATCH whose transaction fails after the drop was recorded (here at COMMIT, by a
  // deferred check) leaves neither the price, nor an outbox row, nor an alert.
  await app.db('price_drop_alerts').update({ alerted_at: app.db.raw("now() - interval '25 hours'") })
  await app.db.raw(`create function refuse_late() returns trigger language plpgsql as $$
    begin raise exception 'a later check refuses this change'; end $$`)
  await app.db.raw(`create constraint trigger refuse_late after insert on price_drop_fanouts
    deferrable initially deferred for each row execute function refuse_late()`)
  const failing = await patchPrice(app, seller.accessToken, listing.id, 50_000_00)
  t.equal(failing.statusCode, 500)
  await app.db.raw('drop trigger refuse_late on price_drop_fanouts')
  t.equal((await app.db('listings').where('id', listing.id).first('price')).price, 90_000_00, 'price unchanged')
  t.equal((await fanoutsOf(app.db, listing.id)).length, 1, 'no second outbox row')
  t.same(await app.priceDrops.drain(), [])
  t.equal((await alertsOf(app.db, listing.id)).get(fans[0]!)?.length, 1, 'no alert')

  // The same in a caller's transaction that fails after update() returned.
  await t.rejects(
    app.spine.transaction({ db: app.db, log: app.log }, async (tx) => {
      await app.catalogue.listings.update({ ...tx, actor: { id: seller.id, role: 'user' } as never }, listing.id, {
        price: 40_000_00,
      })
      t.equal((await fanoutsOf(tx.db as never, listing.id)).length, 2, 'recorded inside the transaction')
      throw new Error('a later step failed')
    }),
  )
  t.equal((await fanoutsOf(app.db, listing.id)).length, 1, 'rolled back with it')
  t.same(await app.priceDrops.drain(), [])
  t.equal((await app.db('listings').where('id', listing.id).first('price')).price, 90_000_00)
})

void t.test('two nodes fan one drop out concurrently: every wishlister exactly once', async (t) => {
  const env = { PRICE_DROP_BATCH: 250, PRICE_DROP_POLL_INTERVAL_MS: 10 }
  const {
    nodes: [a, b],
  } = await startNodes(t, 2, () => ({ env }))
  const seller = await aUser(a!.app)
  const listing = await aListing(a!.app.db, seller.id, { price: 80_000_00 })
  const fans = await wishlisters(a!.app.db, listing.id, 6000, 'two-nodes')
  const batchesBy = [a!, b!].map((node) => {
    const mine: FanoutBatch[] = []
    const worker = node.app.priceDrops
    const runBatch = worker.runBatch.bind(worker)
    worker.runBatch = async () => {
      const batch = await runBatch()
      if (batch) mine.push(batch)
      return batch
    }
    worker.start()
    return mine
  })
  // Each node also runs a second drain loop of its own: four claimers on one drop.
  const extra = [a!, b!].map(
    (node) =>
      new PriceDropWorker({
        db: node.app.db,
        spine: node.app.spine,
        log: node.app.log,
        batch: 250,
        pollMs: 10,
        alertHours: 24,
      }),
  )
  for (const w of extra) w.start()
  t.teardown(() => Promise.all(extra.map((w) => w.stop())))

  const res = await patchPrice(b!.app, seller.accessToken, listing.id, 60_000_00)
  t.equal(res.statusCode, 200, 'the PATCH on node B')
  await until(t, 'the fan-out to finish', async () => (await fanoutsOf(a!.app.db, listing.id))[0]?.outcome === 'done')

  const alerts = await alertsOf(a!.app.db, listing.id)
  t.equal(alerts.size, 6000, 'every wishlister alerted')
  t.ok(
    fans.every((id) => alerts.get(id)?.length === 1),
    'exactly one alert each: none missing, no duplicate',
  )
  const [events] = (
    await a!.app.db.raw(
      `select count(*)::int as n, count(distinct e.user_id)::int as users from user_events e
      join wishlists w on w.user_id = e.user_id and w.listing_id = ?
     where e.event = 'notification:new'`,
      [listing.id],
    )
  ).rows as { n: number; users: number }[]
  t.same(events, { n: 6000, users: 6000 }, 'one notification:new event each')
  t.equal(
    Number((await a!.app.db('price_drop_alerts').where('listing_id', listing.id).count({ n: '*' }).first()).n),
    6000,
  )
  const row = (await fanoutsOf(a!.app.db, listing.id))[0]!
  t.match(row, { alerted: 6000, cursor_user_id: fans.at(-1) })
  const byNode = batchesBy.map((b) => b.reduce((n, x) => n + x.scanned, 0))
  t.comment(`wishlisters per node's own worker: ${byNode.join(' + ')} (the rest by the extra loops)`)
  t.equal(row.batches, 25, 'the 6000 in 24 full batches and an empty last one')
})

void t.test('a worker that dies mid-batch: the rest get exactly one alert, the done ones no second', async (t) => {
  const app = await build(t, { PRICE_DROP_BATCH: 200 })
  const seller = await aUser(app)
  const listing = await aListing(app.db, seller.id, { price: 50_000_00 })
  const fans = await wishlisters(app.db, listing.id, 1000, 'crash')
  t.equal((await patchPrice(app, seller.accessToken, listing.id, 45_000_00)).statusCode, 200)

  // The third batch's connection is killed after its alerts were written, before its commit.
  let batches = 0
  const crashing = new PriceDropWorker({
    db: app.db,
    spine: app.spine,
    log: app.log,
    batch: 200,
    pollMs: 1000,
    alertHours: 24,
    beforeCommit: async (tx) => {
      if (++batches === 3) await tx.db.raw('select pg_terminate_backend(pg_backend_pid())')
    },
  })
  await t.rejects(crashing.drain(), 'the worker crashes')
  const mid = await alertsOf(app.db, listing.id)
  t.equal(mid.size, 400, 'two batches committed, the third lost whole')
  t.ok(
    fans.slice(0, 400).every((id) => mid.get(id)?.length === 1),
    'the first 400 wishlisters (user id order)',
  )
  const row = (await fanoutsOf(app.db, listing.id))[0]!
  t.match(row, { cursor_user_id: fans[399], alerted: 400, batches: 2, attempts: 1, finished_at: null })
  t.equal(
    Number((await app.db('price_drop_alerts').where('listing_id', listing.id).count({ n: '*' }).first()).n),
    400,
    'the throttle rows of the lost batch are gone with it',
  )

  // A restarted worker (after the failed row's short back-off) resumes at the cursor.
  await until(
    t,
    'the back-off',
    async () => (await app.db.raw('select now() >= ? as due', [row.next_attempt_at])).rows[0].due,
  )
  const resumed = await app.priceDrops.drain()
  t.same(
    resumed.map((b) => b.scanned),
    [200, 200, 200, 0],
    'the remaining 600, then the end',
  )
  const after = await alertsOf(app.db, listing.id)
  t.equal(after.size, 1000)
  t.ok(
    fans.every((id) => after.get(id)?.length === 1),
    'exactly one alert each',
  )
  t.match((await fanoutsOf(app.db, listing.id))[0], { outcome: 'done', alerted: 1000, attempts: 0 })

  // A batch that throws (a bug, the database refusing) is the same: rolled back, retried.
  await app.db('price_drop_alerts').update({ alerted_at: app.db.raw("now() - interval '25 hours'") })
  t.equal((await patchPrice(app, seller.accessToken, listing.id, 40_000_00)).statusCode, 200)
  const throwing = new PriceDropWorker({
    db: app.db,
    spine: app.spine,
    log: app.log,
    batch: 200,
    pollMs: 1000,
    alertHours: 24,
    beforeCommit: (_tx, batch) => {
      if (batch.alerted > 0 && ++batches === 5) throw new Error('boom')
    },
  })
  await t.rejects(throwing.drain(), { message: 'boom' })
  await app.db('price_drop_fanouts').update({ next_attempt_at: app.db.fn.now() })
  await app.priceDrops.drain()
  const twice = await alertsOf(app.db, listing.id)
  t.ok(
    fans.every((id) => twice.get(id)?.length === 2 && twice.get(id)![1]!.newPrice === 40_000_00),
    'a day later, one more alert each at the lower price',
  )
})

void t.test('connected wishlisters hear it live; the throttle, the seller and later drops', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2, () => ({ env: { PRICE_DROP_POLL_INTERVAL_MS: 5000 } }))
  for (const node of [a!, b!]) node.app.priceDrops.start()
  const [seller, ada, bola] = await Promise.all([aUser(a!.app), aUser(a!.app), aUser(a!.app)])
  const lamp = await aListing(a!.app.db, seller.id, { title: 'Brass lamp', price: 30_000_00 })
  for (const fan of [ada, bola])
    t.equal((await call(a!.app, 'PUT', `/v1/me/wishlist/${lamp.id}`, { token: fan.accessToken })).statusCode, 204)
  await a!.app.db('wishlists').insert({ user_id: seller.id, listing_id: lamp.id })
  const adaOnA = await connect(t, a!, { token: ada.accessToken })
  const bolaOnB = await connect(t, b!, { token: bola.accessToken })
  const sellerOnA = await connect(t, a!, { token: seller.accessToken })

  // The PATCH on node B; its worker is kicked at commit (the poll is 5 s: not what delivers).
  const started = Date.now()
  t.equal((await patchPrice(b!.app, seller.accessToken, lamp.id, 25_000_00)).statusCode, 200)
  for (const client of [adaOnA, bolaOnB]) {
    const got = await client.recorder.next('notification:new', (n) => n.type === 'price_drop', 2_000)
    t.same(got.payload.data.data, { listingId: lamp.id, oldPrice: 30_000_00, newPrice: 25_000_00, currency: 'NGN' })
  }
  t.ok(Date.now() - started < 2_000, 'both within 2 s of the PATCH')

  // Within the window a lower price alerts nobody again.
  t.equal((await patchPrice(b!.app, seller.accessToken, lamp.id, 20_000_00)).statusCode, 200)
  await until(t, 'the second drop', async () => (await fanoutsOf(a!.app.db, lamp.id))[1]?.outcome === 'done')
  const alerts = await alertsOf(a!.app.db, lamp.id)
  t.same([alerts.get(ada.id)?.length, alerts.get(bola.id)?.length], [1, 1], 'the throttle holds')
  t.notOk(alerts.has(seller.id), 'the seller is never alerted')
  t.equal(sellerOnA.recorder.of('notification:new').length, 0)
  t.equal(adaOnA.recorder.of('notification:new').length, 1)
})

void t.test('a later drop while the first is fanning out: one alert each, at the latest price', async (t) => {
  const app = await build(t, { PRICE_DROP_BATCH: 500 })
  const seller = await aUser(app)
  const sofa = await aListing(app.db, seller.id, { price: 100_000_00 })
  const fans = await wishlisters(app.db, sofa.id, 2000, 'later')

  // Both drops before any worker ran: the first is superseded, the second tells everyone
  // from the price they last knew.
  t.equal((await patchPrice(app, seller.accessToken, sofa.id, 90_000_00)).statusCode, 200)
  t.equal((await patchPrice(app, seller.accessToken, sofa.id, 80_000_00)).statusCode, 200)
  await app.priceDrops.drain()
  let alerts = await alertsOf(app.db, sofa.id)
  t.ok(
    fans.every((id) => alerts.get(id)?.length === 1),
    'one alert each',
  )
  t.same(alerts.get(fans[1999]!)![0], {
    listingId: sofa.id,
    oldPrice: 100_000_00,
    newPrice: 80_000_00,
    currency: 'NGN',
  })
  t.match(await fanoutsOf(app.db, sofa.id), [
    { outcome: 'superseded', alerted: 0 },
    { outcome: 'done', alerted: 2000 },
  ])

  // Mid-way: one batch of the first drop went out, then a lower price. Those already told
  // are not told again (the throttle); the others hear once, of the latest price.
  const lamp = await aListing(app.db, seller.id, { price: 100_000_00 })
  const lampFans = await wishlisters(app.db, lamp.id, 2000, 'midway')
  t.equal((await patchPrice(app, seller.accessToken, lamp.id, 90_000_00)).statusCode, 200)
  t.match(await app.priceDrops.runBatch(), { scanned: 500, alerted: 500, finished: null })
  t.equal((await patchPrice(app, seller.accessToken, lamp.id, 70_000_00)).statusCode, 200)
  await app.priceDrops.drain()
  alerts = await alertsOf(app.db, lamp.id)
  t.ok(
    lampFans.every((id) => alerts.get(id)?.length === 1),
    'one alert each',
  )
  t.equal(alerts.get(lampFans[0]!)![0]!.newPrice, 90_000_00, 'the first 500 heard of the first drop')
  t.same(alerts.get(lampFans[500]!)![0], {
    listingId: lamp.id,
    oldPrice: 100_000_00,
    newPrice: 70_000_00,
    currency: 'NGN',
  })
  t.match(await fanoutsOf(app.db, lamp.id), [
    { outcome: 'superseded', alerted: 500 },
    { outcome: 'done', alerted: 1500 },
  ])

  // A listing taken down before its fan-out ran alerts nobody.
  const chair = await aListing(app.db, seller.id, { price: 10_000_00 })
  await wishlisters(app.db, chair.id, 10, 'withdrawn')
  t.equal((await patchPrice(app, seller.accessToken, chair.id, 9_000_00)).statusCode, 200)
  t.equal((await call(app, 'DELETE', `/v1/listings/${chair.id}`, { token: seller.accessToken })).statusCode, 204)
  await app.priceDrops.drain()
  t.equal((await alertsOf(app.db, chair.id)).size, 0)
  t.match(await fanoutsOf(app.db, chair.id), [{ outcome: 'withdrawn' }])
})
