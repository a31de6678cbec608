/**
 * Catalogue over 1 000 000 listings: listing detail, a browse page of 20 (category subtree,
 * newest, keyset), text search with filters, a deep keyset page, and the most common term.
 * Each runs against Oja and against a bare node:http + pg server sending the same SQL (the
 * statements Oja's services build, captured from Knex), in the same run.
 *
 * The 1M-row database is built once per template (migrations + seeds) and kept:
 * `oja_bench_catalogue_<template hash>_<rows>`. `--quick` uses 100 000 rows and short runs.
 */
import type { AddressInfo } from 'node:net'
import pg from 'pg'
import knexFactory from 'knex'
import type { BenchContext, BenchRow, Scenario } from '../lib.js'
import { bareServer, load } from '../lib.js'
import { databaseUrl, templateName, withAdmin } from '../../helpers/pg.js'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { encodeCursor } from '../../../src/shared/index.js'
import { seedBulkListings } from '../../../seeds/bulk-listings.js'
import { categoryWithDescendants } from '../../../src/categories/categories.service.js'
import { detailSql } from '../../../src/listings/listings.sql.js'
import { pageSql, type SearchPlan } from '../../../src/listings/listings.search.js'

const POOL = 10
const CONNECTIONS = 50
/**
 * Search latency targets are per request: at 50 connections a query costing ~10 ms of
 * database CPU queues behind the others on two cores, so search runs at 4 connections.
 */
const SEARCH_CONNECTIONS = 4

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

    // Inputs: a sample of listing ids, the Furniture subtree, a typical filtered search.
    const sample = (
      (await db.raw("select id from listings where status = 'active' order by hashtext(id::text) limit 1000")).rows as {
        id: string
      }[]
    ).map((r) => r.id)
    const furnitureId = ((await db('categories').where('slug', 'furniture').first('id')) as { id: string }).id
    const homeId = ((await db('categories').where('slug', 'home-kitchen').first('id')) as { id: string }).id
    const furniture = await categoryWithDescendants({ db }, furnitureId)
    const home = await categoryWithDescendants({ db }, homeId)
    const depth = Math.min(100_000, rows / 2)
    const deep = (
      await db.raw(
        "select to_json(published_at) #>> '{}' as at, id from listings where status = 'active' order by published_at desc, id desc offset ? limit 1",
        [depth],
      )
    ).rows[0] as { at: string; id: string }
    // Signed as the app signs it (buildApp above set the key): the scope names the search's sort and filters.
    const deepCursor = encodeCursor(
      ['newest', 'exact', deep.at, deep.id, null, null],
      `search:${JSON.stringify(['newest', null, null, null, null, null, null, null, null, null, null])}`,
    )

    // The same SQL Oja sends, captured from its builders, for the bare reference.
    const native = (q: { toSQL(): { toNative(): { sql: string; bindings: readonly unknown[] } } }): Native => {
      const n = q.toSQL().toNative()
      return { sql: n.sql, bindings: [...n.bindings] }
    }
    const detail = detailSql(db, sample[0]!)
    const detailQuery = native(db.raw(detail.sql, detail.bindings))
    const detailIdIndex = detailQuery.bindings.indexOf(sample[0]!)
    const categorySql =
      'with recursive sub as (select id from categories where id = $1 union all select c.id from categories c join sub on c.parent_id = sub.id) select id from sub'
    const plan = (p: Partial<SearchPlan>): Native => {
      const { sql, bindings } = pageSql(db, { sort: 'newest', limit: 20, mode: 'exact', ...p })
      return native(db.raw(sql, bindings))
    }
    const browse = plan({ categoryIds: furniture })
    const search = plan({
      q: 'standing fan',
      categoryIds: home,
      condition: ['good', 'like_new'],
      maxPrice: 200_000_00,
      sort: 'relevance',
    })
    const deepPage = plan({ after: [deep.at, deep.id] })
    const firstPage = plan({})
    const common = plan({ q: 'chair', sort: 'relevance' })

    const pool = new pg.Pool({ connectionString: url, max: POOL })
    let next = 0
    const nextId = () => sample[next++ % sample.length]!
    const ref = await bareServer(async (req, res) => {
      try {
        const path = req.url ?? '/'
        let body: unknown
        if (path.startsWith('/detail/')) {
          const bindings = [...detailQuery.bindings]
          bindings[detailIdIndex] = path.slice('/detail/'.length)
          body = (await pool.query(detailQuery.sql, bindings)).rows[0]
        } else {
          const which =
            path === '/browse'
              ? { q: browse, cat: furnitureId }
              : path === '/search'
                ? { q: search, cat: homeId }
                : path === '/deep'
                  ? { q: deepPage }
                  : path === '/newest'
                    ? { q: firstPage }
                    : { q: common }
          if ('cat' in which) await pool.query(categorySql, [which.cat])
          body = { items: (await pool.query(which.q.sql, which.q.bindings)).rows }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
      } catch (err) {
        res.writeHead(500).end(String(err))
      }
    })

    const cases: {
      name: string
      oja: string | (() => string)
      reference: string | (() => string)
      target: string
      connections?: number
    }[] = [
      {
        name: 'catalogue: listing detail',
        oja: () => `/v1/listings/${nextId()}`,
        reference: () => `/detail/${nextId()}`,
        target: '≥0.8×, p99 ≤ 25 ms',
      },
      {
        name: 'catalogue: browse page (Furniture, newest, 20)',
        oja: `/v1/listings?categoryId=${furnitureId}&sort=newest&limit=20`,
        reference: '/browse',
        target: '≥0.8×, p99 ≤ 25 ms',
      },
      {
        name: 'catalogue: search "standing fan" + filters',
        oja: `/v1/listings?q=standing%20fan&categoryId=${homeId}&condition=good&condition=like_new&maxPrice=20000000&limit=20`,
        reference: '/search',
        target: 'p95 ≤ 20 ms',
        connections: SEARCH_CONNECTIONS,
      },
      {
        name: `catalogue: newest at depth ${depth.toLocaleString('en')}`,
        oja: `/v1/listings?sort=newest&limit=20&cursor=${deepCursor}`,
        reference: '/deep',
        target: 'p95 ≤ 1.5× page 1',
      },
      { name: 'catalogue: newest, page 1', oja: '/v1/listings?sort=newest&limit=20', reference: '/newest', target: '' },
      {
        name: 'catalogue: most common term "chair", relevance',
        oja: '/v1/listings?q=chair&limit=20',
        reference: '/common',
        target: 'p95 ≤ 50 ms',
        connections: SEARCH_CONNECTIONS,
      },
    ]

    const out: BenchRow[] = []
    try {
      // Sanity: both sides answer 200 before measuring.
      for (const c of cases) {
        const path = typeof c.oja === 'string' ? c.oja : c.oja()
        const res = await fetch(ojaUrl + path)
        if (res.status !== 200) throw new Error(`${c.name}: ${res.status} ${await res.text()}`)
      }
      for (const c of cases) {
        for (const [variant, base, path] of [
          ['oja', ojaUrl, c.oja],
          ['reference', ref.url, c.reference],
        ] as const) {
          ctx.log(`${c.name} (${variant})`)
          const r = await load({
            url: base,
            connections: c.connections ?? CONNECTIONS,
            duration,
            warmupSeconds: ctx.quick ? 1 : 2,
            runs: ctx.quick ? 1 : 3,
            requests: [typeof path === 'string' ? { path } : { setupRequest: (req) => ({ ...req, path: path() }) }],
          })
          out.push({
            scenario: c.name,
            variant,
            rps: r.rps,
            p50: r.p50,
            p95: r.p95,
            p99: r.p99,
            target: variant === 'oja' ? c.target : undefined,
            note: `${rows.toLocaleString('en')} listings, ${c.connections ?? CONNECTIONS} conns${r.errors || r.non2xx ? `, ${r.errors} errors, ${r.non2xx} non-2xx` : ''}`,
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
