/**
 * Fan-out: a price drop on a listing with 10 000 wishlisters. The PATCH commits the price and
 * one outbox row; the price-drop workers of both nodes (started here, as the background loops
 * would) fan it out in batches of PRICE_DROP_BATCH. Measures the PATCH that lowers the price
 * (p50/p99 over repeated drops), the time from the PATCH's start until every connected
 * wishlister (1 000 sockets over two nodes) has the `notification:new` event, and the worker's
 * time to store all 10 000 alerts (the outbox row's commit to its last batch's, from the
 * row's own timestamps). Between drops the throttle rows are aged by a day (outside the
 * timings), so every drop alerts every wishlister. The reference is the same set-based work
 * through bare pg: one INSERT ... SELECT of 10 000 notifications and their events, without
 * HTTP or sockets.
 */
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import { io as ioClient, type Socket } from 'socket.io-client'
import type { OjaApp } from '../../../src/app.js'
import { buildNode } from '../../../realtime/index.js'
import { testConfig } from '../../helpers/app.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
import { categoryId } from '../../factories/listings.js'
import { percentile, type BenchContext, type BenchRow, type Scenario } from '../lib.js'

const WISHLISTERS = 10_000

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const connected = ctx.quick ? 200 : 1_000
  const drops = ctx.quick ? 5 : 20
  const name = await createTestDatabase()
  const db = { name, url: databaseUrl(name) }
  const apps: OjaApp[] = []
  const sockets: Socket[] = []
  try {
    for (let i = 0; i < 2; i++) {
      const { app } = await buildNode(
        testConfig(db, { DATABASE_POOL_MAX: 10, LOG_LEVEL: 'silent' }, `oja-bench:${name}:`),
        { background: false, logger: false },
      )
      await app.listen({ port: 0, host: '127.0.0.1' })
      app.priceDrops.start()
      apps.push(app)
    }
    const [a, b] = apps as [OjaApp, OjaApp]
    const urls = apps.map((app) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)

    // Seller and listing, then 10 000 wishlisters with sessions, inserted set-based.
    const seller = (
      await a.inject({
        method: 'POST',
        url: '/v1/auth/register',
        payload: { email: 'seller@bench.oja', password: 'long enough pw', name: 'Seller' },
      })
    ).json() as { accessToken: string; user: { id: string } }
    const [listing] = (await a
      .db('listings')
      .insert({
        seller_id: seller.user.id,
        title: 'Dining table, six chairs',
        description: 'Solid wood',
        type: 'sale',
        price: 500_000_00,
        condition: 'good',
        category_id: await categoryId(a.db, 'tables-desks'),
        quantity: 1,
        status: 'active',
      })
      .returning('id')) as { id: string }[]
    const { rows: users } = (await a.db.raw(
      `insert into users (email, password_hash, name)
       select 'fan' || g || '@bench.oja', 'x', 'Fan ' || g from generate_series(1, ?) g returning id`,
      [WISHLISTERS],
    )) as { rows: { id: string }[] }
    await a.db.raw('insert into wishlists (user_id, listing_id) select id, ? from users where email like ?', [
      listing!.id,
      'fan%@bench.oja',
    ])
    const chosen = users.slice(0, connected)
    const { rows: sessions } = (await a.db.raw(
      `insert into sessions (user_id, expires_at) select unnest(?::uuid[]), now() + interval '1 day' returning id, user_id`,
      [chosen.map((u) => u.id)],
    )) as { rows: { id: string; user_id: string }[] }

    // Connected wishlisters, alternating between the two nodes.
    const arrivals = new Map<string, number[]>() // drop id -> arrival times
    await Promise.all(
      sessions.map(
        (s, i) =>
          new Promise<void>((resolve, reject) => {
            const token = a.jwt.sign({ sub: s.user_id, sid: s.id, role: 'user' })
            const socket = ioClient(urls[i % 2]!, {
              auth: { token },
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
            })
            socket.on('notification:new', (payload: { data: { type: string; data: { newPrice: number } } }) => {
              if (payload.data.type !== 'price_drop') return
              const key = String(payload.data.data.newPrice)
              const list = arrivals.get(key) ?? []
              list.push(performance.now())
              arrivals.set(key, list)
            })
            socket.once('connect', () => resolve())
            socket.once('connect_error', reject)
            sockets.push(socket)
          }),
      ),
    )
    ctx.log(`fanout: ${sockets.length} sockets connected, ${WISHLISTERS} wishlisters`)

    const patchMs: number[] = []
    const deliveryMs: number[] = []
    const storedMs: number[] = []
    let incomplete = 0
    let price = 500_000_00
    for (let i = 0; i < drops; i++) {
      price -= 1_000_00
      // A day later for the throttle: this drop alerts everyone again (not timed).
      await a.db('price_drop_alerts').update({ alerted_at: a.db.raw("now() - interval '25 hours'") })
      const started = performance.now()
      const res = await b.inject({
        method: 'PATCH',
        url: `/v1/listings/${listing!.id}`,
        headers: { authorization: `Bearer ${seller.accessToken}` },
        payload: { price },
      })
      const answered = performance.now()
      if (res.statusCode !== 200) throw new Error(`PATCH answered ${res.statusCode}: ${res.body}`)
      patchMs.push(answered - started)
      const deadline = answered + 10_000
      while ((arrivals.get(String(price))?.length ?? 0) < connected && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 5))
      const got = arrivals.get(String(price)) ?? []
      if (got.length < connected) incomplete++
      deliveryMs.push(Math.max(...got) - started)
      // The worker's own time: from the outbox row (the PATCH's commit) to its last batch.
      let fanout: { ms: number | null; alerted: number } | undefined
      while (performance.now() < deadline) {
        fanout = (
          await a.db.raw(
            `select extract(epoch from finished_at - created_at) * 1000 as ms, alerted
             from price_drop_fanouts where listing_id = ? order by id desc limit 1`,
            [listing!.id],
          )
        ).rows[0] as { ms: number | null; alerted: number } | undefined
        if (fanout?.ms != null) break
        await new Promise((r) => setTimeout(r, 10))
      }
      if (fanout?.ms == null || fanout.alerted !== WISHLISTERS) incomplete++
      else storedMs.push(Number(fanout.ms))
    }
    const stored = Number(
      ((await a.db('notifications').where('type', 'price_drop').count({ n: '*' }).first()) as { n: number }).n,
    )

    // Reference: the same two set-based statements through bare pg.
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    const refMs: number[] = []
    for (let i = 0; i < drops; i++) {
      const started = performance.now()
      await client.query('begin')
      await client.query(
        `with n as (insert into notifications (user_id, type, data) select user_id, 'price_drop', $2::jsonb from wishlists where listing_id = $1 returning id, user_id)
         insert into user_events (user_id, seq, event, data) select user_id, 1000000 + $3, 'notification:new', jsonb_build_object('id', id) from n`,
        [listing!.id, JSON.stringify({ listingId: listing!.id, ref: randomUUID() }), i],
      )
      await client.query('rollback')
      refMs.push(performance.now() - started)
    }
    await client.end()

    const patchP99 = percentile(patchMs, 99)
    const deliveryP99 = percentile(deliveryMs, 99)
    return [
      {
        scenario: 'fanout price drop (10k wishlisters)',
        variant: 'oja',
        p50: percentile(patchMs, 50),
        p99: patchP99,
        target: 'PATCH p99 ≤ 100 ms',
        met: patchP99 <= 100,
        note: `${drops} drops; ${stored} notifications stored; the PATCH writes one outbox row`,
      },
      {
        scenario: 'fanout price drop (10k wishlisters)',
        variant: 'reference',
        p50: percentile(refMs, 50),
        p99: percentile(refMs, 99),
        note: 'bare pg: the same INSERT…SELECT fan-out, rolled back',
      },
      {
        scenario: `fanout delivery to ${connected} sockets`,
        variant: 'oja',
        p50: percentile(deliveryMs, 50),
        p99: deliveryP99,
        target: 'all within 2 s',
        met: incomplete === 0 && deliveryP99 <= 2_000,
        note: `PATCH start → last socket; ${incomplete} drops incomplete after 10 s`,
      },
      {
        scenario: 'fanout worker: 10k alerts stored',
        variant: 'oja',
        p50: percentile(storedMs, 50),
        p99: percentile(storedMs, 99),
        note: `outbox row committed → last batch committed (${Math.ceil(WISHLISTERS / a.config.PRICE_DROP_BATCH)} batches of ${a.config.PRICE_DROP_BATCH}, workers on both nodes)`,
      },
    ]
  } finally {
    for (const s of sockets) s.disconnect()
    for (const app of apps) await app.close()
    await dropTestDatabase(name)
  }
}

export const scenario: Scenario = { name: 'fanout', order: 50, run }
