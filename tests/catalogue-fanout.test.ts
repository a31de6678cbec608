import t from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { createListing } from './factories/catalogue.js'

/** Wishlisters straight in the database: `n` users who each favourited the listing. */
async function wishlisters(app: OjaApp, listingId: string, n: number, tag: string): Promise<void> {
  await app.db.raw(
    `with u as (
       insert into users (email, password_hash, name)
       select format('fan-%s-%s@test.oja', ?::text, g), 'x', 'Fan ' || g from generate_series(1, ?) g
       returning id
     )
     insert into wishlists (user_id, listing_id) select id, ? from u`,
    [tag, n, listingId],
  )
}

/** Counts the SQL statements the app sends while `fn` runs. */
async function statementsDuring(app: OjaApp, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = []
  const listener = (q: { sql: string }) => seen.push(q.sql)
  app.db.on('query', listener)
  try {
    await fn()
  } finally {
    app.db.removeListener('query', listener)
  }
  return seen
}

void t.test(
  'a price drop to 10 000 wishlisters: one outbox row in the PATCH, then set-based batches in the worker',
  async (t) => {
    const app = await build(t)
    const seller = await aUser(app)
    const small = await createListing(app, seller, { title: 'Small following', price: 50_000_00 })
    const big = await createListing(app, seller, { title: 'Big following', price: 90_000_00 })
    await wishlisters(app, small.id, 2, 'small')
    await wishlisters(app, big.id, 10_000, 'big')

    const smallSql = await statementsDuring(app, async () => {
      const res = await call(app, 'PATCH', `/v1/listings/${small.id}`, {
        token: seller.accessToken,
        body: { price: 40_000_00 },
      })
      t.equal(res.statusCode, 200)
    })
    const bigSql = await statementsDuring(app, async () => {
      const res = await call(app, 'PATCH', `/v1/listings/${big.id}`, {
        token: seller.accessToken,
        body: { price: 75_000_00 },
      })
      t.equal(res.statusCode, 200)
      t.equal(res.json.price, 75_000_00)
    })
    t.equal(
      bigSql.length,
      smallSql.length,
      `the same ${smallSql.length} statements for 2 and for 10 000 wishlisters: no loop`,
    )
    t.equal(bigSql.filter((s) => /insert into "price_drop_fanouts"/i.test(s)).length, 1, 'one outbox row')
    t.equal(bigSql.filter((s) => /insert into (notifications|user_events)/i.test(s)).length, 0, 'no alert in the PATCH')
    t.ok(bigSql.includes('BEGIN;') || bigSql.some((s) => /^begin/i.test(s)), 'inside a transaction')

    // The worker (run here by hand: the test app has no background loops): 2 000 wishlisters
    // per batch (PRICE_DROP_BATCH), each batch one INSERT of notifications and one of events.
    let batches: Awaited<ReturnType<typeof app.priceDrops.drain>> = []
    const workerSql = await statementsDuring(app, async () => {
      batches = await app.priceDrops.drain()
    })
    const full = batches.filter((b) => b.scanned === 2000)
    t.equal(full.length, 5, 'the big listing in five full batches (and the small one in one)')
    t.equal(
      workerSql.filter((s) => /insert into notifications/i.test(s)).length,
      batches.filter((b) => b.alerted > 0).length,
      'one INSERT of notifications per batch',
    )
    t.equal(
      workerSql.filter((s) => /insert into user_events/i.test(s)).length,
      batches.filter((b) => b.alerted > 0).length,
      'one INSERT of events per batch',
    )

    const notes = (await app
      .db('notifications')
      .where('type', 'price_drop')
      .whereRaw("data->>'listingId' = ?", [big.id])
      .select('user_id', 'data')) as { user_id: string; data: unknown }[]
    t.equal(notes.length, 10_000, 'one notification per wishlister')
    t.equal(new Set(notes.map((n) => n.user_id)).size, 10_000)
    t.same(notes[0]!.data, { listingId: big.id, oldPrice: 90_000_00, newPrice: 75_000_00, currency: 'NGN' })
    const events = await app
      .db('user_events as e')
      .join('wishlists as w', 'w.user_id', 'e.user_id')
      .where('w.listing_id', big.id)
      .where('e.event', 'notification:new')
      .select(
        app.db.raw('count(*)::int as n'),
        app.db.raw('count(distinct e.user_id)::int as users'),
        app.db.raw('max(e.seq)::int as max_seq'),
      )
    t.same(
      events[0],
      { n: 10_000, users: 10_000, max_seq: 1 },
      'one notification:new event per wishlister, each their seq 1',
    )
    const sample = (await app
      .db('user_events as e')
      .join('wishlists as w', 'w.user_id', 'e.user_id')
      .where('w.listing_id', big.id)
      .first('e.data')) as { data: { type: string; data: unknown } }
    t.equal(sample.data.type, 'price_drop')
    t.same(sample.data.data, { listingId: big.id, oldPrice: 90_000_00, newPrice: 75_000_00, currency: 'NGN' })

    // Atomic per batch: when storing the events fails, the batch leaves no notification and no
    // alert recorded, and the cursor stays; the committed price stays, and its alerts follow
    // once the store is back. (The wishlisters were alerted just now; a day later a lower price
    // alerts them again.)
    await app.db('price_drop_alerts').update({ alerted_at: app.db.raw("now() - interval '25 hours'") })
    const before = Number((await app.db('notifications').count({ n: '*' }).first())?.n)
    const append = app.spine.append.bind(app.spine)
    app.spine.append = async () => {
      throw new Error('event store down')
    }
    const dropped = await call(app, 'PATCH', `/v1/listings/${big.id}`, {
      token: seller.accessToken,
      body: { price: 10_000_00 },
    })
    t.equal(dropped.statusCode, 200, 'the PATCH does not depend on the event store')
    await t.rejects(app.priceDrops.drain(), { message: 'event store down' })
    app.spine.append = append
    t.equal(
      Number((await app.db('notifications').count({ n: '*' }).first())?.n),
      before,
      'no notification without its event',
    )
    t.equal(
      Number(
        (await app.db('price_drop_alerts').whereRaw("alerted_at > now() - interval '1 hour'").count({ n: '*' }).first())
          ?.n,
      ),
      0,
      'no alert recorded either',
    )
    const pending = await app.db('price_drop_fanouts').whereNull('finished_at').select('*')
    t.match(pending, [{ listing_id: big.id, cursor_user_id: null, attempts: 1, last_error: 'event store down' }])
    await app.db('price_drop_fanouts').update({ next_attempt_at: app.db.fn.now() }) // skip the back-off
    await app.priceDrops.drain()
    t.equal(
      Number(
        (
          await app
            .db('notifications')
            .whereRaw("data->>'newPrice' = ?", [String(10_000_00)])
            .count({ n: '*' })
            .first()
        )?.n,
      ),
      10_000,
      'the retried fan-out alerts everyone once',
    )
  },
)
