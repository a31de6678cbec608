/**
 * `npm run bench [-- name ...] [--quick] [--soak]`: runs every scenario in
 * tests/bench/scenarios/ (or the named ones) against real PostgreSQL and Redis, prints a
 * table and writes it with the machine, versions and date to tests/bench/results.md.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import pg from 'pg'
import { Redis } from 'ioredis'
import type { BenchContext, BenchRow, Scenario } from './lib.js'
import { PG_ADMIN_URL, TEST_REDIS_URL } from '../helpers/pg.js'

const args = process.argv.slice(2)
const names = args.filter((a) => !a.startsWith('--'))
const ctx: BenchContext = {
  pgAdminUrl: PG_ADMIN_URL,
  redisUrl: TEST_REDIS_URL,
  quick: args.includes('--quick'),
  soak: args.includes('--soak'),
  log: (msg) => console.error(`[bench] ${msg}`),
}

const dir = fileURLToPath(new URL('./scenarios/', import.meta.url))
const scenarios: Scenario[] = []
for (const file of readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const mod = (await import(pathToFileURL(dir + file).href)) as { scenario?: Scenario }
  if (mod.scenario) scenarios.push(mod.scenario)
}
scenarios.sort((a, b) => a.order - b.order)
const selected = scenarios.filter((s) =>
  ctx.soak ? s.name === 'soak' : names.length ? names.includes(s.name) : s.name !== 'soak',
)

const rows: BenchRow[] = []
// A stray error event in one scenario (a pool's idle client ended by the server) is logged,
// not allowed to throw away the whole run's results.
process.on('uncaughtException', (err) => console.error('[bench] uncaught:', err.message))
for (const s of selected) {
  ctx.log(`scenario ${s.name}`)
  try {
    const out = await s.run(ctx)
    // ratio of each oja row to the reference row of the same scenario
    for (const r of out) {
      const ref = out.find((x) => x.scenario === r.scenario && x.variant === 'reference')
      if (r.variant !== 'reference' && ref?.rps && r.rps && r.ratio === undefined) r.ratio = r.rps / ref.rps
    }
    rows.push(...out)
  } catch (err) {
    console.error(err)
    rows.push({ scenario: s.name, variant: 'error', note: String((err as Error).message).slice(0, 200) })
  }
}

const fmt = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits))
const table = [
  '| scenario | variant | req/s | p50 ms | p95 ms | p99 ms | ratio | target | met | note |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.variant} | ${fmt(r.rps, 0)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.p99)} | ${fmt(r.ratio, 2)} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'met' : 'NOT MET'} | ${r.note ?? ''} |`,
  ),
].join('\n')

const client = new pg.Client({ connectionString: PG_ADMIN_URL })
await client.connect()
const pgVersion = ((await client.query('show server_version')).rows[0] as { server_version: string }).server_version
await client.end()
const redis = new Redis(TEST_REDIS_URL)
const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?'
redis.disconnect()

const header = `Run ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, PostgreSQL ${pgVersion}, Redis ${redisVersion}${ctx.quick ? ' (quick mode)' : ''}.`
const judged = rows.filter((r) => r.met !== undefined)
const summary = `Targets: ${judged.filter((r) => r.met).length} met, ${judged.filter((r) => !r.met).length} not met${
  judged.some((r) => !r.met)
    ? ` (${judged
        .filter((r) => !r.met)
        .map((r) => r.scenario)
        .join('; ')})`
    : ''
}.`
console.log(`\n${header}\n\n${table}\n\n${summary}\n`)
if (names.length === 0 || ctx.soak) {
  writeFileSync(
    new URL(ctx.soak ? './soak-results.md' : './results.md', import.meta.url),
    `# Benchmark results\n\n${header}\n\n${table}\n\n${summary}\n`,
  )
}
process.exit(0)
