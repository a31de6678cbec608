/**
 * A login storm must not starve the rest (issue 16, target 5): 50 connections sending wrong
 * passwords as fast as they can (rate limits off, as if from many addresses) while 10
 * connections read a listing. The listing's p99 during the storm is compared with its p99
 * alone, with password hashing bounded (PASSWORD_HASH_CONCURRENCY=1, the default, and a
 * queue of 100) and, for comparison, effectively unbounded (64 at once: every libuv thread).
 * Target: the listing's p99 during the storm ≤ 2 × idle.
 */
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import type { BenchContext, BenchRow, Scenario } from '../lib.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
import { buildApp, type OjaApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'

type Run = { rps: number; p99: number; p50: number; codes: Record<string, number> }

async function run(opts: autocannon.Options): Promise<Run> {
  const r = await autocannon({ ...opts, pipelining: 1 })
  const codes: Record<string, number> = {}
  for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) codes[code] = stat?.count ?? 0
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, codes }
}

async function measure(
  ctx: BenchContext,
  concurrency: number,
  seconds: number,
): Promise<{ idle: Run; during: Run; storm: Run }> {
  const dbName = await createTestDatabase()
  let app: OjaApp | undefined
  try {
    app = await buildApp(
      loadConfig(
        {},
        {
          NODE_ENV: 'test',
          JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
          LOG_LEVEL: 'silent',
          DATABASE_URL: databaseUrl(dbName),
          DATABASE_POOL_MAX: 20,
          REDIS_URL: ctx.redisUrl,
          REDIS_PREFIX: `oja-bench:${dbName}:`,
          RATE_LIMIT_SCALE: 0,
          MIGRATE_ON_START: false,
          SEED_DEMO: false,
          PASSWORD_HASH_CONCURRENCY: concurrency,
          PASSWORD_HASH_QUEUE: 100,
        },
      ),
      { background: false, logger: false },
    )
    await app.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const reg = await fetch(`${url}/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'storm@bench.oja', password: 'correct horse battery', name: 'Storm' }),
    })
    const sellerId = ((await reg.json()) as { user: { id: string } }).user.id
    const category = ((await app.db('categories').whereNotNull('parent_id').first('id')) as { id: string }).id
    const [listing] = (await app
      .db('listings')
      .insert({
        seller_id: sellerId,
        title: 'Bench item',
        type: 'sale',
        price: 5_000_00,
        condition: 'good',
        category_id: category,
        quantity: 1,
        status: 'active',
        published_at: app.db.fn.now(),
      })
      .returning('id')) as { id: string }[]
    const read = { url: `${url}/v1/listings/${listing!.id}`, connections: 10, duration: seconds }
    await run({ ...read, duration: 2 }) // warm-up
    const idle = await run(read)
    const stormRun = run({
      url: `${url}/v1/auth/login`,
      method: 'POST',
      connections: 50,
      duration: seconds + 2,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'storm@bench.oja', password: 'wrong password here' }),
    })
    await new Promise((r) => setTimeout(r, 1000))
    const during = await run(read)
    const storm = await stormRun
    return { idle, during, storm }
  } finally {
    await app?.close()
    await dropTestDatabase(dbName)
  }
}

export const scenario: Scenario = {
  name: 'login-storm',
  order: 45,
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    await import('../../setup/template.js')
    const seconds = ctx.quick ? 5 : 10
    const rows: BenchRow[] = []
    for (const [label, concurrency] of [
      ['bounded (1 hash at once)', 1],
      ['unbounded (64 at once)', 64],
    ] as const) {
      ctx.log(`login storm, ${label}`)
      const { idle, during, storm } = await measure(ctx, concurrency, seconds)
      const ratio = during.p99 / Math.max(1, idle.p99)
      rows.push(
        {
          scenario: 'login-storm',
          variant: `detail idle, ${label}`,
          rps: idle.rps,
          p50: idle.p50,
          p99: idle.p99,
        },
        {
          scenario: 'login-storm',
          variant: `detail during storm, ${label}`,
          rps: during.rps,
          p50: during.p50,
          p99: during.p99,
          ...(concurrency === 1
            ? {
                target: 'p99 ≤ 2× idle, all 2xx',
                met: ratio <= 2 && Object.keys(during.codes).every((c) => c.startsWith('2')),
              }
            : {}),
          note: `p99 ${ratio.toFixed(2)}× idle; ${Object.entries(during.codes)
            .map(([c, n]) => `${n}× ${c}`)
            .join(', ')}`,
        },
        {
          scenario: 'login-storm',
          variant: `wrong logins, ${label}`,
          rps: storm.rps,
          p50: storm.p50,
          p99: storm.p99,
          note: Object.entries(storm.codes)
            .map(([c, n]) => `${n}× ${c}`)
            .join(', '),
        },
      )
    }
    return rows
  },
}
