import t from 'tap'
import { call } from './helpers/app.js'
import { withAdmin } from './helpers/pg.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { checkout, commerceApp, fillCarts, manyBuyers } from './factories/commerce.js'

void t.test(
  'connections killed mid-checkout (pg_terminate_backend): no partial order, no oversell, recovery by itself',
  async (t) => {
    const { app } = await commerceApp(t, { DATABASE_POOL_MAX: 20 })
    const seller = await aUser(app)
    const listings = await Promise.all(
      [0, 1, 2].map(() => aListing(app.db, seller.id, { quantity: 30, price: 10_000_00 })),
    )
    const buyers = await manyBuyers(app, 120)
    await fillCarts(
      app,
      buyers.map((b, i) => ({ userId: b.id, listingId: listings[i % 3]!.id, quantity: 1, unitPrice: 10_000_00 })),
    )

    const inflight = buyers.map((b) => checkout(app, b))
    // Kill every backend of this database a few times while the checkouts run.
    let killed = 0
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 25))
      killed += await withAdmin(
        async (c) =>
          (
            await c.query(
              'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
              [app.testDb.name],
            )
          ).rowCount ?? 0,
      )
    }
    const results = await Promise.all(inflight)
    const statuses = results.map((r) => r.statusCode)
    t.ok(killed > 0, `${killed} backends terminated`)
    t.same(
      statuses.filter((s) => ![201, 409, 503].includes(s)),
      [],
      `only 201, 409 or 503: ${JSON.stringify(results.filter((r) => ![201, 409, 503].includes(r.statusCode)).map((r) => r.body.slice(0, 120)))}`,
    )
    t.ok(
      results.every((r) =>
        r.headers['content-type']
          ?.toString()
          .startsWith(r.statusCode === 201 ? 'application/json' : 'application/problem+json'),
      ),
      'every failure is a problem',
    )

    // No partial order: each order has its lines, its shipment and its payment row.
    const partial = await app
      .db('orders as o')
      .whereNotExists(app.db('order_items as i').whereRaw('i.order_id = o.id'))
      .orWhereNotExists(app.db('shipments as s').whereRaw('s.order_id = o.id'))
      .orWhereNotExists(app.db('payments as p').whereRaw('p.order_id = o.id'))
      .select('o.id')
    t.same(partial, [], 'no order without its lines, shipment or payment')
    // No oversell: sold + live reservations never exceed the stock.
    for (const l of listings) {
      const row = (
        await app.db.raw(
          `select l.quantity, l.sold_quantity, coalesce((select sum(quantity) from reservations r where r.listing_id = l.id and r.released_at is null and r.converted_at is null and r.expires_at > now()), 0)::int as held
       from listings l where l.id = ?`,
          [l.id],
        )
      ).rows[0] as { quantity: number; sold_quantity: number; held: number }
      t.ok(row.sold_quantity + row.held <= row.quantity, `listing holds ${row.held} of ${row.quantity}`)
    }
    const created = results.filter((r) => r.statusCode === 201).length
    const orders = Number((await app.db('orders').count({ n: '*' }).first())?.n)
    t.ok(orders >= created, `every 201 has its order (${created} answered, ${orders} stored)`)

    // The pool recovers by itself: the next checkouts and /ready work.
    t.equal((await call(app, 'GET', '/ready')).statusCode, 200)
    const [late] = await manyBuyers(app, 1)
    const fresh = await aListing(app.db, seller.id, { price: 10_000_00 })
    await fillCarts(app, [{ userId: late!.id, listingId: fresh.id, unitPrice: 10_000_00 }])
    const after = await checkout(app, late!)
    t.equal(after.statusCode, 201, `a checkout after the outage works (${after.body.slice(0, 120)})`)
  },
)
