/**
 * Checkout, with Paystack played by the loopback fake (tests/fakes/paystack.ts):
 *
 * - hot listing: one listing, 256 buyers hammering POST /v1/checkout over 32 connections at
 *   once until its stock is gone (and 25 % more). Must sell exactly the stock, with no 5xx (a deadlock or a lock
 *   timeout would show as one). Reference: the bare conditional UPDATE
 *   (`sold_quantity < quantity`) through bare node:http + pg, same connections, same count.
 * - many listings: sustained checkouts per second over 256 buyers with a listing each (no
 *   contention), p50/p95/p99. Reference: the same conditional UPDATE on those listings.
 *
 * Each Oja checkout is the whole thing: auth, Idempotency-Key row, row locks, reservation,
 * order + shipment + items + payment rows, the event, then Paystack initialize over HTTP.
 */
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import pg from 'pg'
import type { BenchContext, BenchRow, Scenario } from '../lib.js'
import { bareServer, load } from '../lib.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
import { FakePaystack } from '../../fakes/paystack.js'
import { buildApp, type OjaApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'

const POOL = 20
const CONNECTIONS = 32
const ADDRESS = JSON.stringify({
  address: { fullName: 'Bench Buyer', phone: '+2348000000000', line1: '1 Bench Road', city: 'Lagos', state: 'Lagos' },
})

type Buyer = { id: string; token: string }

async function buyers(app: OjaApp, n: number): Promise<Buyer[]> {
  const tag = randomUUID().slice(0, 8)
  const users = (await app
    .db('users')
    .insert(
      Array.from({ length: n }, (_, i) => ({
        email: `bench-${tag}-${i}@bench.oja`,
        password_hash: 'x',
        name: `Bench ${i}`,
      })),
    )
    .returning('id')) as { id: string }[]
  const sessions = (await app
    .db('sessions')
    .insert(users.map((u) => ({ user_id: u.id, expires_at: new Date(Date.now() + 86_400_000) })))
    .returning(['id', 'user_id'])) as { id: string; user_id: string }[]
  return users.map((u, i) => ({ id: u.id, token: app.jwt.sign({ sub: u.id, sid: sessions[i]!.id, role: 'user' }) }))
}

async function listings(app: OjaApp, sellerId: string, n: number, quantity: number): Promise<string[]> {
  const category = ((await app.db('categories').whereNotNull('parent_id').first('id')) as { id: string }).id
  const rows = (await app
    .db('listings')
    .insert(
      Array.from({ length: n }, (_, i) => ({
        seller_id: sellerId,
        title: `Bench item ${i}`,
        type: 'sale',
        price: 5_000_00,
        condition: 'good',
        category_id: category,
        quantity,
        status: 'active',
        published_at: app.db.fn.now(),
      })),
    )
    .returning('id')) as { id: string }[]
  return rows.map((r) => r.id)
}

/**
 * CPU of this process (Oja, the load generator and the Paystack fake share it) per request
 * sent since `from`: steadier than the rate on a noisy machine, and what a change to Oja's
 * own code moves.
 */
const cpuPerRequest = (from: NodeJS.CpuUsage, requests: number) => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000 / Math.max(1, requests)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

type Burst = { rps: number; p50: number; p95: number; p99: number; codes: Record<string, number> }

/** A fixed number of requests over `connections` at once; rate = requests ÷ wall time. */
async function burst(opts: autocannon.Options): Promise<Burst> {
  const started = performance.now()
  const r = await autocannon({ ...opts, pipelining: 1 })
  const seconds = (performance.now() - started) / 1000
  const codes: Record<string, number> = {}
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) codes[code] = stat?.count ?? 0
  const total = Object.values(codes).reduce((a, b) => a + b, 0)
  return {
    rps: total / seconds,
    p50: r.latency.p50,
    p95: (r.latency as unknown as Record<string, number>).p97_5 ?? r.latency.p99,
    p99: r.latency.p99,
    codes,
  }
}

async function deadlocks(db: OjaApp['db'], name: string): Promise<number> {
  await db.raw('select pg_stat_force_next_flush()').catch(() => undefined)
  return Number(
    (
      (await db.raw('select deadlocks from pg_stat_database where datname = ?', [name])).rows[0] as {
        deadlocks: number
      }
    ).deadlocks,
  )
}

export const scenario: Scenario = {
  name: 'checkout',
  order: 40,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    await import('../../setup/template.js')
    const dbName = await createTestDatabase()
    const paystack = await FakePaystack.start()
    const rows: BenchRow[] = []
    let app: OjaApp | undefined
    const pool = new pg.Pool({ connectionString: databaseUrl(dbName), max: POOL })
    // An idle client's error (the server ending it) must not crash the whole run.
    pool.on('error', (err) => ctx.log(`reference pool: ${err.message}`))
    try {
      const config = loadConfig(
        {},
        {
          NODE_ENV: 'test',
          JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
          LOG_LEVEL: 'silent',
          DATABASE_URL: databaseUrl(dbName),
          DATABASE_POOL_MAX: POOL,
          REDIS_URL: ctx.redisUrl,
          REDIS_PREFIX: `oja-bench:${dbName}:`,
          RATE_LIMIT_SCALE: 0,
          // The load reuses 256 buyers for every checkout: the abuse caps on unpaid checkouts
          // (tested in tests/hardening-limits.test.ts) would refuse most of it.
          CHECKOUT_MAX_UNPAID: 0,
          RESERVATION_MAX_SHARE_PERCENT: 0,
          MIGRATE_ON_START: false,
          SEED_DEMO: false,
          PAYSTACK_SECRET_KEY: paystack.secretKey,
          PAYSTACK_BASE_URL: paystack.url,
          PAYSTACK_TIMEOUT_MS: 10_000,
          RESERVATION_TTL_SECONDS: 3600,
        },
      )
      app = await buildApp(config, { background: false, logger: false })
      await app.listen({ port: 0, host: '127.0.0.1' })
      const ojaUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
      const db = app.db
      const [seller] = await buyers(app, 1)

      // The bare reference: one conditional UPDATE per request.
      let hotListing = ''
      const ref = await bareServer(async (req, res) => {
        try {
          const id = req.url?.startsWith('/checkout/') ? req.url.slice('/checkout/'.length) : hotListing
          const r = await pool.query(
            'update listings set sold_quantity = sold_quantity + 1 where id = $1 and sold_quantity < quantity returning id',
            [id],
          )
          res.writeHead(r.rowCount ? 201 : 409, { 'content-type': 'application/json' })
          res.end(r.rowCount ? '{"ok":true}' : '{"code":"OUT_OF_STOCK"}')
        } catch {
          res.writeHead(500)
          res.end()
        }
      })

      const checkoutRequest = (pick: () => Buyer) => ({
        method: 'POST' as const,
        setupRequest: (req: autocannon.Request) => {
          const b = pick()
          return {
            ...req,
            method: 'POST' as const,
            path: '/v1/checkout',
            body: ADDRESS,
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${b.token}`,
              'idempotency-key': randomUUID(),
            },
          }
        },
      })

      // 1. The hot listing.
      const stock = ctx.quick ? 300 : 1000
      const runs = ctx.quick ? 1 : 3
      const hotBuyers = await buyers(app, 256)
      const oja: Burst[] = []
      const hotCpu: number[] = []
      const bare: Burst[] = []
      const notes: string[] = []
      const deadlocksBefore = await deadlocks(db, dbName)
      for (let run = 0; run < runs; run++) {
        const [listingId] = await listings(app, seller!.id, 1, stock)
        await db('cart_items')
          .whereIn(
            'user_id',
            hotBuyers.map((b) => b.id),
          )
          .delete()
        await db('cart_items').insert(
          hotBuyers.map((b) => ({ user_id: b.id, listing_id: listingId!, quantity: 1, unit_price: 5_000_00 })),
        )
        let i = 0
        const cpu0 = process.cpuUsage()
        ctx.log(
          `hot listing run ${run + 1}/${runs}: ${stock} units, ${hotBuyers.length} buyers over ${CONNECTIONS} connections`,
        )
        const r = await burst({
          url: ojaUrl,
          connections: CONNECTIONS,
          amount: Math.round(stock * 1.25),
          requests: [checkoutRequest(() => hotBuyers[i++ % hotBuyers.length]!)],
        })
        hotCpu.push(cpuPerRequest(cpu0, i))
        const reserved = Number(
          (
            (await db('reservations')
              .where('listing_id', listingId)
              .whereNull('released_at')
              .sum({ n: 'quantity' })
              .first()) as { n: number }
          ).n,
        )
        notes.push(
          `${reserved}/${stock} reserved, ${r.codes['409'] ?? 0}×409, ${Object.entries(r.codes)
            .filter(([c]) => Number(c) >= 500)
            .reduce((a, [, n]) => a + n, 0)}×5xx`,
        )
        if (reserved !== stock || (r.codes['201'] ?? 0) !== stock)
          throw new Error(`hot listing: reserved ${reserved} of ${stock} (201s: ${r.codes['201']})`)
        oja.push(r)
        const [refListing] = await listings(app, seller!.id, 1, stock)
        hotListing = refListing!
        const b = await burst({
          url: `${ref.url}/checkout`,
          connections: CONNECTIONS,
          amount: Math.round(stock * 1.25),
          method: 'POST',
        })
        if ((b.codes['201'] ?? 0) !== stock) throw new Error('reference oversold or undersold')
        bare.push(b)
      }
      const deadlocksAfter = await deadlocks(db, dbName)
      const pick = (bs: Burst[]) => ({
        rps: median(bs.map((b) => b.rps)),
        p50: median(bs.map((b) => b.p50)),
        p95: median(bs.map((b) => b.p95)),
        p99: median(bs.map((b) => b.p99)),
      })
      rows.push({
        scenario: 'checkout: 1 hot listing, 256 buyers × 32 connections',
        variant: 'oja',
        ...pick(oja),
        target: 'exactly the stock; no 5xx, no deadlock',
        note: `each of ${runs} runs: ${[...new Set(notes)].join(' | ')}; ${deadlocksAfter - deadlocksBefore} deadlocks; Node CPU ${median(hotCpu).toFixed(2)} ms/request`,
      })
      rows.push({
        scenario: 'checkout: 1 hot listing, 256 buyers × 32 connections',
        variant: 'reference',
        ...pick(bare),
        note: 'bare conditional UPDATE (node:http + pg)',
      })

      // 2. Many listings: sustained rate, no contention.
      const manyBuyers = await buyers(app, 256)
      const many = await listings(app, seller!.id, 256, 1_000_000)
      await db('cart_items').insert(
        manyBuyers.map((b, k) => ({ user_id: b.id, listing_id: many[k]!, quantity: 1, unit_price: 5_000_00 })),
      )
      const duration = ctx.quick ? 3 : 10
      let j = 0
      const manyCpu0 = process.cpuUsage()
      ctx.log(`many listings: ${duration} s × ${ctx.quick ? 1 : 3} runs`)
      const manyOja = await load({
        url: ojaUrl,
        connections: CONNECTIONS,
        duration,
        runs: ctx.quick ? 1 : 3,
        warmupSeconds: ctx.quick ? 1 : 2,
        requests: [checkoutRequest(() => manyBuyers[j++ % manyBuyers.length]!)],
      })
      const manyCpu = cpuPerRequest(manyCpu0, j)
      let k = 0
      const manyRef = await load({
        url: ref.url,
        connections: CONNECTIONS,
        duration,
        runs: ctx.quick ? 1 : 3,
        warmupSeconds: ctx.quick ? 1 : 2,
        requests: [
          {
            method: 'POST',
            setupRequest: (req) => ({ ...req, method: 'POST', path: `/checkout/${many[k++ % many.length]}` }),
          },
        ],
      })
      rows.push({
        scenario: 'checkout: 256 listings, sustained',
        variant: 'oja',
        rps: manyOja.rps,
        p50: manyOja.p50,
        p95: manyOja.p95,
        p99: manyOja.p99,
        note: `${manyOja.non2xx} non-2xx, ${manyOja.errors} errors; Paystack = loopback fake; Node CPU ${manyCpu.toFixed(2)} ms/request`,
      })
      rows.push({
        scenario: 'checkout: 256 listings, sustained',
        variant: 'reference',
        rps: manyRef.rps,
        p50: manyRef.p50,
        p95: manyRef.p95,
        p99: manyRef.p99,
        note: 'bare conditional UPDATE (node:http + pg)',
      })
      await ref.close()
      return rows
    } finally {
      await app?.close()
      await pool.end()
      await paystack.close()
      await dropTestDatabase(dbName)
    }
  },
}
