/**
 * Checkout, with Paystack played by the loopback fake (tests/fakes/paystack.ts):
 *
 * - hot listing: one listing, 256 buyers hammering POST /v1/checkout over 32 connections at
 *   once until its stock is gone (and 25 % more). Must sell exactly the stock, with no 5xx (a deadlock or a lock
 *   timeout would show as one).
 * - many listings: sustained checkouts per second over 256 buyers with a listing each (no
 *   contention), p50/p95/p99. Target: at least twice the 125/s measured before issue 16's work.
 *
 * Reference of both: the bare conditional UPDATE plus one insert, through bare node:http + pg,
 * same connections: BEGIN; `update listings set sold_quantity = sold_quantity + 1 where id = $1
 * and sold_quantity < quantity`; when a row was updated, one INSERT of an order row; COMMIT.
 *
 * Each Oja checkout is the whole thing: auth, Idempotency-Key row, row locks, reservation,
 * order + shipment + items + payment rows, the event, then Paystack initialize over HTTP.
 *
 * The load generator and the fake Paystack run in their own processes (tests/bench/apart.ts),
 * so the server's event loop does only the server's work.
 *
 * CPU per checkout, split: Node = process.cpuUsage() of this process (the server) over the
 * sustained runs ÷ checkouts sent (warm-up included on both sides);
 * PostgreSQL = utime + stime (/proc/<pid>/stat) of the backends serving Oja's pool
 * (pg_stat_activity, application_name 'oja') after minus before, ÷ checkouts.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import type { ApartLoadResult } from '../apart.js'
import type { ApartRequest, BenchContext, BenchRow, Scenario } from '../lib.js'
import { bareServer, loadApart, paystackApart } from '../lib.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
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
 * CPU of this process (Oja; the load generator and the Paystack fake run in their own
 * processes, tests/bench/apart.ts) per request sent since `from`: steadier than the rate on a
 * noisy machine, and what a change to Oja's own code moves.
 */
const cpuPerRequest = (from: NodeJS.CpuUsage, requests: number) => {
  const used = process.cpuUsage(from)
  return (used.user + used.system) / 1000 / Math.max(1, requests)
}

/** Sustained checkout before issue 16's work, on this box (npm run bench -- checkout). */
const BASELINE_RPS = 125

/** PostgreSQL's CPU (ms) so far of the backends serving the `oja` pool on database `name`, by pid. */
async function backendCpu(db: OjaApp['db'], name: string): Promise<Map<number, number>> {
  const { rows } = (await db.raw(
    "select pid from pg_stat_activity where datname = ? and application_name = 'oja' and backend_type = 'client backend'",
    [name],
  )) as { rows: { pid: number }[] }
  const ticksPerMs = 100 / 1000 // USER_HZ
  const out = new Map<number, number>()
  for (const { pid } of rows) {
    try {
      // Fields after "(comm) ": state is [0], utime [11], stime [12] (proc(5) fields 14 and 15).
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
      out.set(pid, (Number(f[11]) + Number(f[12])) / ticksPerMs)
    } catch {
      // another machine's PostgreSQL, or the backend is gone
    }
  }
  return out
}

const cpuSince = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0)

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

type Burst = { rps: number; p50: number; p95: number; p99: number; codes: Record<string, number> }

/** A fixed number of requests over `connections` at once (the load generator apart); rate = requests ÷ wall time. */
async function burst(opts: {
  url: string
  connections: number
  amount: number
  requests: ApartRequest[]
  uuidHeader?: string
}): Promise<Burst> {
  const r: ApartLoadResult = await loadApart(opts)
  return { rps: r.rps, p50: r.p50, p95: r.p95, p99: r.p99, codes: r.codes }
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
    const paystack = await paystackApart()
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
          // This measures the checkout path's capacity (and the hot listing must sell exactly its
          // stock): the event-loop gate would refuse part of a deliberate overload with 503s.
          // Admission control has its own test and the chat scenario measures it.
          ADMISSION_EVENT_LOOP_DELAY_MS: 0,
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

      // The bare reference: the conditional UPDATE plus one insert (an order row), in a transaction.
      let hotListing = ''
      const refAddress = JSON.stringify(JSON.parse(ADDRESS).address)
      const ref = await bareServer(async (req, res) => {
        const client = await pool.connect()
        try {
          const id = req.url?.startsWith('/checkout/') ? req.url.slice('/checkout/'.length) : hotListing
          await client.query('begin')
          const r = await client.query(
            'update listings set sold_quantity = sold_quantity + 1 where id = $1 and sold_quantity < quantity',
            [id],
          )
          if (r.rowCount)
            await client.query(
              'insert into orders (buyer_id, subtotal, total, shipping_address) values ($1, 500000, 500000, $2)',
              [seller!.id, refAddress],
            )
          await client.query('commit')
          res.writeHead(r.rowCount ? 201 : 409, { 'content-type': 'application/json' })
          res.end(r.rowCount ? '{"ok":true}' : '{"code":"OUT_OF_STOCK"}')
        } catch {
          await client.query('rollback').catch(() => undefined)
          res.writeHead(500)
          res.end()
        } finally {
          client.release()
        }
      })

      /** One checkout per buyer in turn; the load generator gives each request a fresh Idempotency-Key. */
      const checkoutRequests = (bs: Buyer[]): ApartRequest[] =>
        bs.map((b) => ({
          method: 'POST',
          path: '/v1/checkout',
          body: ADDRESS,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${b.token}` },
        }))
      const IDEMPOTENCY = 'idempotency-key'

      // 1. The hot listing.
      const stock = ctx.quick ? 300 : 1000
      const runs = ctx.quick ? 1 : 3
      const hotBuyers = await buyers(app, 256)
      const oja: Burst[] = []
      const hotCpu: number[] = []
      const bare: Burst[] = []
      const notes: string[] = []
      let hotFives = 0
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
        const cpu0 = process.cpuUsage()
        ctx.log(
          `hot listing run ${run + 1}/${runs}: ${stock} units, ${hotBuyers.length} buyers over ${CONNECTIONS} connections`,
        )
        const r = await burst({
          url: ojaUrl,
          connections: CONNECTIONS,
          amount: Math.round(stock * 1.25),
          requests: checkoutRequests(hotBuyers),
          uuidHeader: IDEMPOTENCY,
        })
        hotCpu.push(cpuPerRequest(cpu0, Math.round(stock * 1.25)))
        const reserved = Number(
          (
            (await db('reservations')
              .where('listing_id', listingId)
              .whereNull('released_at')
              .sum({ n: 'quantity' })
              .first()) as { n: number }
          ).n,
        )
        const fives = Object.entries(r.codes)
          .filter(([c]) => Number(c) >= 500)
          .reduce((a, [, n]) => a + n, 0)
        hotFives += fives
        notes.push(`${reserved}/${stock} reserved, ${r.codes['409'] ?? 0}×409, ${fives}×5xx`)
        if (reserved !== stock || (r.codes['201'] ?? 0) !== stock)
          throw new Error(`hot listing: reserved ${reserved} of ${stock} (201s: ${r.codes['201']})`)
        oja.push(r)
        const [refListing] = await listings(app, seller!.id, 1, stock)
        hotListing = refListing!
        const b = await burst({
          url: ref.url,
          connections: CONNECTIONS,
          amount: Math.round(stock * 1.25),
          requests: [{ method: 'POST', path: '/checkout' }],
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
        // A run that sold more or less than the stock has thrown above.
        met: hotFives === 0 && deadlocksAfter === deadlocksBefore,
        note: `each of ${runs} runs: ${[...new Set(notes)].join(' | ')}; ${deadlocksAfter - deadlocksBefore} deadlocks; Node CPU ${median(hotCpu).toFixed(2)} ms/request`,
      })
      rows.push({
        scenario: 'checkout: 1 hot listing, 256 buyers × 32 connections',
        variant: 'reference',
        ...pick(bare),
        note: 'bare conditional UPDATE + one INSERT in a transaction (node:http + pg)',
      })

      // 2. Many listings: sustained rate, no contention.
      const manyBuyers = await buyers(app, 256)
      const many = await listings(app, seller!.id, 256, 1_000_000)
      await db('cart_items').insert(
        manyBuyers.map((b, k) => ({ user_id: b.id, listing_id: many[k]!, quantity: 1, unit_price: 5_000_00 })),
      )
      // A production database has planner statistics; this one was created from an empty
      // template a minute ago, and autovacuum may not have analysed it yet on a busy machine.
      // Without them two partial indexes of reservations tie, and the stock read can walk every
      // live reservation instead of the listing's (measured: PostgreSQL CPU per checkout grows
      // with the run). The hot phase above has already written thousands of reservations.
      await db.raw('analyze')
      const duration = ctx.quick ? 3 : 10
      const manyCpu0 = process.cpuUsage()
      const pg0 = await backendCpu(db, dbName)
      ctx.log(`many listings: ${duration} s × ${ctx.quick ? 1 : 3} runs`)
      const manyOja = await loadApart({
        url: ojaUrl,
        connections: CONNECTIONS,
        duration,
        runs: ctx.quick ? 1 : 3,
        warmupSeconds: ctx.quick ? 1 : 2,
        requests: checkoutRequests(manyBuyers),
        uuidHeader: IDEMPOTENCY,
      })
      // Warm-up included on both sides: the CPU was measured over the whole call.
      const manyCpu = cpuPerRequest(manyCpu0, manyOja.total)
      const pgCpu = cpuSince(pg0, await backendCpu(db, dbName)) / Math.max(1, manyOja.total)
      const manyRef = await loadApart({
        url: ref.url,
        connections: CONNECTIONS,
        duration,
        runs: ctx.quick ? 1 : 3,
        warmupSeconds: ctx.quick ? 1 : 2,
        requests: many.map((id) => ({ method: 'POST', path: `/checkout/${id}` })),
      })
      const target = 2 * BASELINE_RPS
      rows.push({
        scenario: 'checkout: 256 listings, sustained',
        variant: 'oja',
        rps: manyOja.rps,
        p50: manyOja.p50,
        p95: manyOja.p95,
        p99: manyOja.p99,
        target: `≥ 2× the ${BASELINE_RPS}/s baseline (≥ ${target}/s), no non-2xx`,
        met: manyOja.rps >= target && manyOja.non2xx === 0 && manyOja.errors === 0,
        note: `${manyOja.non2xx} non-2xx, ${manyOja.errors} errors; Paystack = loopback fake; CPU per checkout: Node ${manyCpu.toFixed(2)} ms (the server's process; load generator and fake Paystack apart), PostgreSQL ${pgCpu.toFixed(2)} ms (backends' utime+stime)`,
      })
      rows.push({
        scenario: 'checkout: 256 listings, sustained',
        variant: 'reference',
        rps: manyRef.rps,
        p50: manyRef.p50,
        p95: manyRef.p95,
        p99: manyRef.p99,
        note: 'bare conditional UPDATE + one INSERT in a transaction (node:http + pg)',
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
