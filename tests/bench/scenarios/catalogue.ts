/**
 * Catalogue over 1 000 000 listings: listing detail, browse pages of 20 (a top category's
 * subtree, newest and both price sorts), text search with filters, the most common term, a
 * misspelt term (the typo fallback), a deep keyset page and newest page 1.
 *
 * References (issue 16, target 7): for browse and search the reference is the best single
 * SQL statement written by hand for the same job over the same data, the page built as JSON
 * by PostgreSQL and written out as it comes by a bare node:http + pg server: the limit, not a
 * mirror. Listing detail, the deep page and newest page 1 still replay Oja's own statement.
 * Each Oja search/browse statement's EXPLAIN (ANALYZE, BUFFERS) goes to
 * tests/bench/catalogue-plans.md.
 *
 * The 1M-row database is built once per template (migrations + seeds) and kept:
 * `oja_bench_catalogue_<template hash>_<rows>`. `--quick` uses 100 000 rows and short runs.
 */
import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import knexFactory, { type Knex } from 'knex'
import type { BenchContext, BenchRow, LoadResult, Scenario } from '../lib.js'
import { bareServer, loadApart } from '../lib.js'
import { databaseUrl, templateName, withAdmin } from '../../helpers/pg.js'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { encodeCursor } from '../../../src/shared/index.js'
import { seedBulkListings } from '../../../seeds/bulk-listings.js'
import { categorySubtree } from '../../../src/categories/categories.service.js'
import { cardSelect, detailSql } from '../../../src/listings/listings.sql.js'
import {
  CORRECTION_THRESHOLD,
  FUZZY_BELOW,
  correctQuery,
  correctionSql,
  pageSql,
  type SearchPlan,
} from '../../../src/listings/listings.search.js'

const POOL = 10
const CONNECTIONS = 50
/**
 * Search latency targets are per request: at 50 connections a query costing ~10 ms of
 * database CPU queues behind the others on two cores, so search runs at 4 connections.
 */
const SEARCH_CONNECTIONS = 4
/** Target 3: three times the 636 req/s browse measured before the category levels, p99 ≤ 25 ms. */
const BROWSE_RPS = 1908
const BROWSE_P99 = 25

async function ensureTemplate(ctx: BenchContext): Promise<string> {
  ctx.log('making sure the test template database exists')
  await import('../../setup/template.js')
  return templateName()
}

/** The cached bench database (built on first use: template clone + bulk seed + VACUUM ANALYZE). */
export async function benchDatabase(ctx: BenchContext, rows: number): Promise<string> {
  const template = await ensureTemplate(ctx)
  const name = `oja_bench_catalogue_${template.replace(/^oja_tpl_/, '')}_${rows}`
  const exists = await withAdmin(
    async (c) => (await c.query('select 1 from pg_database where datname = $1', [name])).rowCount,
  )
  if (exists) {
    ctx.log(`reusing ${name}`)
    return name
  }
  const building = `${name}_building`
  await withAdmin(async (c) => {
    await c.query(`drop database if exists ${building} with (force)`)
    await c.query(`create database ${building} template ${template}`)
  })
  ctx.log(`seeding ${rows} listings into ${building} (once; kept for later runs)`)
  const started = Date.now()
  const db = knexFactory({ client: 'pg', connection: databaseUrl(building), pool: { min: 0, max: 2 } })
  try {
    await seedBulkListings(db, rows, { log: (m) => ctx.log(m) })
    await db.raw('vacuum analyze')
  } finally {
    await db.destroy()
  }
  ctx.log(`seeded in ${((Date.now() - started) / 1000).toFixed(0)} s`)
  await withAdmin(async (c) => {
    await c.query(`alter database ${building} rename to ${name}`)
    // Older copies of the same size (built from older migrations) only take disk space now.
    const { rows: stale } = await c.query(
      "select datname from pg_database where datname like 'oja\\_bench\\_catalogue\\_%' and datname <> $1 and datname not like '%\\_building'",
      [name],
    )
    for (const { datname } of stale as { datname: string }[])
      if (datname.endsWith(`_${rows}`)) await c.query(`drop database if exists ${datname} with (force)`)
  })
  return name
}

type Native = { sql: string; bindings: unknown[] }

/** A misspelt query: no exact match, so Oja corrects it against the title words (typo fallback). */
const TYPO = 'samsumg'

type Case = {
  name: string
  oja: string | (() => string)
  reference: string | (() => string)
  target: string
  connections?: number
  /** Whether Oja's row meets the target, from the measured figures of this run. */
  met?: (oja: LoadResult, reference: LoadResult, measured: Map<string, LoadResult>) => boolean
  /** What the reference sends, for the note. */
  referenceNote?: string
  /** The measured cause and the next step, added to the note when the target is missed. */
  cause?: string
}

export const scenario: Scenario = {
  name: 'catalogue',
  order: 20,
  async run(ctx) {
    const rows = ctx.quick ? 100_000 : 1_000_000
    const duration = ctx.quick ? 3 : 10
    const dbName = await benchDatabase(ctx, rows)
    const url = databaseUrl(dbName)

    const config = loadConfig(
      {},
      {
        NODE_ENV: 'test',
        JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
        LOG_LEVEL: 'silent',
        DATABASE_URL: url,
        DATABASE_POOL_MAX: POOL,
        REDIS_URL: ctx.redisUrl,
        REDIS_PREFIX: `oja-bench:${dbName}:`,
        RATE_LIMIT_SCALE: 0,
        MIGRATE_ON_START: false,
        SEED_DEMO: false,
      },
    )
    const app = await buildApp(config, { background: false, logger: false })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const ojaUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const db = app.db

    // Inputs: a sample of listing ids, the Furniture and Home & Kitchen subtrees, a deep cursor.
    const sample = (
      (await db.raw("select id from listings where status = 'active' order by hashtext(id::text) limit 1000")).rows as {
        id: string
      }[]
    ).map((r) => r.id)
    const node = async (slug: string) => {
      const { id } = (await db('categories').where('slug', slug).first('id')) as { id: string }
      const subtree = await categorySubtree({ db }, id)
      if (!subtree) throw new Error(`no category ${slug}`)
      return { id, depth: subtree.depth }
    }
    const furniture = await node('furniture')
    const home = await node('home-kitchen')
    const depth = Math.min(100_000, rows / 2)
    const deep = (
      await db.raw(
        "select to_json(published_at) #>> '{}' as at, id from listings where status = 'active' order by published_at desc, id desc offset ? limit 1",
        [depth],
      )
    ).rows[0] as { at: string; id: string }
    // Signed as the app signs it (buildApp above set the key): the scope names the search's sort and filters.
    const deepCursor = encodeCursor(
      ['newest', 'exact', deep.at, deep.id, null, null, null],
      `search:${JSON.stringify(['newest', null, null, null, null, null, null, null, null, null, null])}`,
    )

    const native = (q: { toSQL(): { toNative(): { sql: string; bindings: readonly unknown[] } } }): Native => {
      const n = q.toSQL().toNative()
      return { sql: n.sql, bindings: [...n.bindings] }
    }
    const detail = detailSql(db, sample[0]!)
    const detailQuery = native(db.raw(detail.sql, detail.bindings))
    const detailIdIndex = detailQuery.bindings.indexOf(sample[0]!)
    const plan = (p: Partial<SearchPlan>): SearchPlan => ({ sort: 'newest', limit: 20, mode: 'exact', ...p })
    const ojaSql = (p: SearchPlan): Native => {
      const { sql, bindings } = pageSql(db, p)
      return native(db.raw(sql, bindings))
    }

    // Oja's statements (for the plans file, and replayed as is by the deep and page-1 references).
    const homeFilters = { condition: ['good', 'like_new'], maxPrice: 200_000_00 }
    const ojaPlans: Record<string, SearchPlan> = {
      browseNewest: plan({ category: furniture }),
      browsePriceAsc: plan({ category: furniture, sort: 'price_asc' }),
      browsePriceDesc: plan({ category: furniture, sort: 'price_desc' }),
      search: plan({ q: 'standing fan', category: home, ...homeFilters, sort: 'relevance' }),
      common: plan({ q: 'chair', sort: 'relevance' }),
      typoExact: plan({ q: TYPO, sort: 'relevance' }),
      typoFuzzy: plan({ q: TYPO, sort: 'relevance', mode: 'fuzzy', corrected: (await correctQuery(db, TYPO)) ?? TYPO }),
    }
    const deepPage = ojaSql(plan({ after: [deep.at, deep.id] }))
    const firstPage = ojaSql(plan({}))

    // The references for browse and search: one hand-written statement each, the page built as
    // JSON by PostgreSQL (the same card columns Oja selects), written out unparsed.
    const cards = cardSelect(db)
    if (Object.keys(cards.bindings).length > 0) throw new Error('the anonymous card select takes no bindings')
    const onSale = "l.status = 'active' and not l.seller_banned"
    // The page's ids first (one range scan of the level's index, index-only), then their cards:
    // with the join in the same limited query the planner may walk the newest index instead.
    const browseRef = (order: string, aggOrder: string) =>
      `select coalesce(json_agg(p order by ${aggOrder}), '[]')::text as page from (
         select ${cards.sql} from (
           select l.id from listings l where ${onSale} and l.category_l${furniture.depth} = $1
           order by ${order} limit 21) ids
         join listings l on l.id = ids.id join users u on u.id = l.seller_id) p`
    // Relevance over the newest RELEVANCE_WINDOW matches (Oja's semantics), ranked, 21 cards
    // plus the window's floor (what the next page's cursor pins).
    const ranked = (window: string) =>
      `with w as materialized (${window}),
            top as (select id, rank from w order by rank desc, id desc limit 21)
       select json_build_object(
                'items', coalesce((select json_agg(p order by p.rank desc, p.id desc) from (
                   select ${cards.sql}, top.rank from top join listings l on l.id = top.id join users u on u.id = l.seller_id) p), '[]'),
                'floor', (select json_build_array(published_at, id) from w order by published_at, id limit 1))::text as page`
    const tsq = "websearch_to_tsquery('english', $1)"
    const window = (where: string, rank = `ts_rank(l.search_vector, ${tsq})::float8`) =>
      `select l.id, l.published_at, ${rank} as rank from listings l
       where ${onSale} and ${where} order by l.published_at desc, l.id desc limit 500`
    const references: Record<string, Native> = {
      browseNewest: {
        sql: browseRef('l.published_at desc, l.id desc', 'p.published_at desc, p.id desc'),
        bindings: [furniture.id],
      },
      browsePriceAsc: { sql: browseRef('l.price, l.id', 'p.price, p.id'), bindings: [furniture.id] },
      browsePriceDesc: {
        sql: browseRef('l.price desc, l.id desc', 'p.price desc, p.id desc'),
        bindings: [furniture.id],
      },
      search: {
        sql: ranked(
          window(
            `l.search_vector @@ ${tsq} and l.category_l${home.depth} = $2 and l.condition = any($3::text[]) and l.price <= $4`,
          ),
        ),
        bindings: ['standing fan', home.id, homeFilters.condition, homeFilters.maxPrice],
      },
      common: { sql: ranked(window(`l.search_vector @@ ${tsq}`)), bindings: ['chair'] },
      // The exact window, and only when it holds fewer than FUZZY_BELOW matches the word's
      // correction (nearest title word) and the window of the word or its correction: one
      // statement (for a one-word query).
      typo: {
        sql: ranked(
          `with exact as materialized (${window(`l.search_vector @@ ${tsq}`)}),
                fix as materialized (
                  select k.word from (
                    select w.word, w.ndoc, w.word <-> lower($1) as distance from listing_words w
                    where (select count(*) from exact) < ${FUZZY_BELOW}
                      and not exists (select 1 from listing_words x where x.word = lower($1))
                    order by w.word <-> lower($1) limit 8) k
                  where k.distance <= 1 - ${CORRECTION_THRESHOLD}
                  order by k.distance, k.ndoc desc, k.word limit 1),
                fuzzy as materialized (${window(
                  `l.search_vector @@ (${tsq} || websearch_to_tsquery('english', (select word from fix))) and exists (select 1 from fix)`,
                  `ts_rank(l.search_vector, ${tsq} || websearch_to_tsquery('english', (select word from fix)))::float8`,
                )})
           select * from exact where not exists (select 1 from fix) union all select * from fuzzy`,
        ),
        bindings: [TYPO],
      },
    }

    const pool = new pg.Pool({ connectionString: url, max: POOL })
    let next = 0
    const nextId = () => sample[next++ % sample.length]!
    const ref = await bareServer(async (req, res) => {
      try {
        const path = (req.url ?? '/').slice(1)
        let body: string
        if (path.startsWith('detail/')) {
          const bindings = [...detailQuery.bindings]
          bindings[detailIdIndex] = path.slice('detail/'.length)
          body = JSON.stringify((await pool.query(detailQuery.sql, bindings)).rows[0])
        } else if (path === 'deep' || path === 'newest') {
          const q = path === 'deep' ? deepPage : firstPage
          body = JSON.stringify({ items: (await pool.query(q.sql, q.bindings)).rows })
        } else {
          const q = references[path]
          if (!q) throw new Error(`no reference ${path}`)
          body = ((await pool.query(q.sql, q.bindings)).rows[0] as { page: string }).page
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(body)
      } catch (err) {
        res.writeHead(500).end(String(err))
      }
    })

    const browseTarget = `≥ ${BROWSE_RPS} req/s (3× 636), p99 ≤ ${BROWSE_P99} ms`
    const browseMet = (o: LoadResult) => o.rps >= BROWSE_RPS && o.p99 <= BROWSE_P99
    const browse = (sort: string, key: string): Case => ({
      name: `catalogue: browse Furniture subtree, ${sort}, 20`,
      oja: `/v1/listings?categoryId=${furniture.id}&sort=${sort}&limit=20`,
      reference: `/${key}`,
      target: browseTarget,
      met: browseMet,
      cause:
        "the statement runs in 0.3 ms (one index-only range scan, catalogue-plans.md); the rest is the node's CPU per page (about 1.2 ms profiled: pg row parsing, cards, JSON, HTTP) on 2 shared cores. Next: build the page's JSON in PostgreSQL, as the reference does",
    })
    const deepName = `catalogue: newest at depth ${depth.toLocaleString('en')}`
    const firstName = 'catalogue: newest, page 1'
    const cases: Case[] = [
      {
        name: 'catalogue: listing detail',
        oja: () => `/v1/listings/${nextId()}`,
        reference: () => `/detail/${nextId()}`,
        target: '≥0.8×, p99 ≤ 25 ms',
        met: (o, r) => o.rps >= 0.8 * r.rps && o.p99 <= 25,
        referenceNote: "Oja's statement replayed",
        cause: 'p99 is queueing for 2 cores shared with other runs (compare the reference p99)',
      },
      browse('newest', 'browseNewest'),
      browse('price_asc', 'browsePriceAsc'),
      browse('price_desc', 'browsePriceDesc'),
      {
        name: 'catalogue: search "standing fan" + filters',
        oja: `/v1/listings?q=standing%20fan&categoryId=${home.id}&condition=good&condition=like_new&maxPrice=20000000&limit=20`,
        reference: '/search',
        target: 'p95 ≤ 20 ms',
        connections: SEARCH_CONNECTIONS,
        met: (o) => o.p95 <= 20,
        cause:
          'at 1M listings the statement alone takes 10-40 ms: 4 693 GIN matches cost 4 544 heap blocks, the filters (condition, price) being in the heap; the reference is no faster. The condition inside the GIN index (btree_gin) was measured no faster: the index scan then decodes the posting trees of the conditions (11 ms against 2.4 ms), as much as the heap saves. Next: a narrow search table (id, published_at, condition, price, category, vector) clustered by published_at',
      },
      {
        name: 'catalogue: most common term "chair", relevance',
        oja: '/v1/listings?q=chair&limit=20',
        reference: '/common',
        target: 'p95 ≤ 50 ms',
        connections: SEARCH_CONNECTIONS,
        met: (o) => o.p95 <= 50,
        cause:
          'at 1M listings the relevance window tests about 24 000 of the newest rows for its 500 matches: an index-only walk of listings_active_newest_text since it carries search_vector (5-18 ms alone, against 15-30 ms through the heap); the rest is queueing on 2 shared cores. Next: a smaller window for terms this common',
      },
      {
        name: `catalogue: typo "${TYPO}" (corrected fallback), relevance`,
        oja: `/v1/listings?q=${TYPO}&limit=20`,
        reference: '/typo',
        target: 'p95 ≤ 50 ms',
        connections: SEARCH_CONNECTIONS,
        met: (o) => o.p95 <= 50,
        cause:
          'three statements: the exact page (0.1 ms, no match), the correction (0.1-0.5 ms, a KNN scan of listing_words), then the page of samsumg or samsung, a common term walked like "chair" (13 ms); the rest is queueing on 2 shared cores (before: 1 226 ms p95, word_similarity over 33 000 titles). The reference plans its corrected window before knowing the word, so it takes a bitmap (12 645 heap blocks)',
      },
      {
        name: firstName,
        oja: '/v1/listings?sort=newest&limit=20',
        reference: '/newest',
        target: '',
        referenceNote: "Oja's statement replayed",
      },
      {
        name: deepName,
        oja: `/v1/listings?sort=newest&limit=20&cursor=${deepCursor}`,
        reference: '/deep',
        target: 'p95 ≤ 1.5× page 1',
        met: (o, _r, measured) => o.p95 <= 1.5 * measured.get(`${firstName}/oja`)!.p95,
        referenceNote: "Oja's statement replayed",
      },
    ]

    const out: BenchRow[] = []
    try {
      // Sanity: both sides answer 200 before measuring, and the typo case does fall back.
      for (const c of cases) {
        for (const [base, path] of [
          [ojaUrl, c.oja],
          [ref.url, c.reference],
        ] as const) {
          const res = await fetch(base + (typeof path === 'string' ? path : path()))
          if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${await res.text()}`)
          const body = (await res.json()) as { searchMode?: string }
          if (base === ojaUrl && c.reference === '/typo' && body.searchMode !== 'fuzzy')
            throw new Error(`${c.name}: searchMode ${body.searchMode}, expected the fuzzy fallback`)
        }
      }
      writePlans(ctx, rows, await explainAll(db, ojaPlans, references, pool))

      const measured = new Map<string, LoadResult>()
      for (const c of cases) {
        for (const [variant, base, path] of [
          ['oja', ojaUrl, c.oja],
          ['reference', ref.url, c.reference],
        ] as const) {
          ctx.log(`${c.name} (${variant})`)
          // The load generator runs in its own process: in this one it would share the server's event loop.
          const r = await loadApart({
            url: base,
            connections: c.connections ?? CONNECTIONS,
            duration,
            warmupSeconds: ctx.quick ? 1 : 2,
            runs: ctx.quick ? 1 : 3,
            requests: typeof path === 'string' ? [{ path }] : Array.from({ length: 20_000 }, () => ({ path: path() })),
          })
          measured.set(`${c.name}/${variant}`, r)
        }
      }
      for (const c of cases) {
        for (const variant of ['oja', 'reference'] as const) {
          const r = measured.get(`${c.name}/${variant}`)!
          const conns = `${rows.toLocaleString('en')} listings, ${c.connections ?? CONNECTIONS} conns`
          const errors = r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ''
          const what =
            variant === 'reference' ? `; ${c.referenceNote ?? 'best single statement, JSON built by PostgreSQL'}` : ''
          const met =
            variant === 'oja' && c.met
              ? c.met(r, measured.get(`${c.name}/reference`)!, measured) && !r.errors && !r.non2xx
              : undefined
          out.push({
            scenario: c.name,
            variant,
            rps: r.rps,
            p50: r.p50,
            p95: r.p95,
            p99: r.p99,
            target: variant === 'oja' ? c.target : undefined,
            met,
            note: `${conns}${errors}${what}${met === false && c.cause ? `; not met: ${c.cause}` : ''}`,
          })
        }
      }
    } finally {
      await ref.close()
      await pool.end()
      await app.close()
    }
    return out
  },
}

type Explained = { name: string; sql: string; bindings: unknown[]; plan: string }

/** EXPLAIN (ANALYZE, BUFFERS) of each of Oja's browse/search statements and of each reference. */
async function explainAll(
  db: Knex,
  ojaPlans: Record<string, SearchPlan>,
  references: Record<string, Native>,
  pool: pg.Pool,
): Promise<Explained[]> {
  const out: Explained[] = []
  for (const [name, p] of Object.entries(ojaPlans)) {
    const { sql, bindings } = pageSql(db, p)
    const n = db.raw(sql, bindings).toSQL().toNative()
    const plan = await db.transaction(async (trx) => {
      // Once to warm the cache, then measured.
      await trx.raw(sql, bindings)
      const { rows } = await trx.raw<{ rows: Record<string, string>[] }>(`explain (analyze, buffers) ${sql}`, bindings)
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    })
    out.push({ name: `oja: ${name}`, sql: n.sql, bindings: [...n.bindings], plan })
  }
  const fix = correctionSql(['samsumg'])
  const fixNative = db.raw(fix.sql, fix.bindings).toSQL().toNative()
  await db.raw(fix.sql, fix.bindings)
  out.push({
    name: 'oja: correction',
    sql: fixNative.sql,
    bindings: [...fixNative.bindings],
    plan: (await db.raw<{ rows: Record<string, string>[] }>(`explain (analyze, buffers) ${fix.sql}`, fix.bindings)).rows
      .map((r) => r['QUERY PLAN'])
      .join('\n'),
  })
  for (const [name, q] of Object.entries(references)) {
    await pool.query(q.sql, q.bindings)
    const { rows } = await pool.query<Record<string, string>>(`explain (analyze, buffers) ${q.sql}`, q.bindings)
    out.push({
      name: `reference: ${name}`,
      sql: q.sql,
      bindings: q.bindings,
      plan: rows.map((r) => r['QUERY PLAN']).join('\n'),
    })
  }
  return out
}

const PLANS_FILE = new URL('../catalogue-plans.md', import.meta.url)

/** Writes the plans to tests/bench/catalogue-plans.md (a full run's copy is committed). */
function writePlans(ctx: BenchContext, rows: number, plans: Explained[]): void {
  const squeeze = (sql: string) => sql.replace(/\s+/g, ' ').trim()
  const text = [
    '# Catalogue query plans',
    '',
    `Written by \`npm run bench -- catalogue${ctx.quick ? ' --quick' : ''}\` on ${new Date().toISOString()} over ${rows.toLocaleString('en')} listings:`,
    "EXPLAIN (ANALYZE, BUFFERS) of each browse and search statement Oja sends (from the search service's",
    'own builder, `pageSql`), then of each reference statement, each run once before to warm the cache.',
    'A typo search runs the exact statement first, then the correction of its words (`correction`), then the fuzzy page (the query or its correction).',
    '',
    ...plans.flatMap((p) => [
      `## ${p.name}`,
      '',
      '```sql',
      squeeze(p.sql),
      '```',
      '',
      `Bindings: \`${JSON.stringify(p.bindings)}\``,
      '',
      '```',
      p.plan,
      '```',
      '',
    ]),
  ].join('\n')
  writeFileSync(PLANS_FILE, text)
  ctx.log(`plans written to tests/bench/catalogue-plans.md`)
}
