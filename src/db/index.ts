import { mkdirSync } from 'node:fs'
import path from 'node:path'
import knexFactory, { type Knex } from 'knex'
import pg from 'pg'
import type { Config } from '../config.js'

export type { Knex }
/** A Knex handle or a transaction: every query of a service runs on one of these. */
export type Db = Knex | Knex.Transaction

// Money and counts are bigints in the database; every value we store fits a double exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v))
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v))

/** Opens the database: PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. */
export async function createDb(
  config: Pick<Config, 'DATABASE_URL' | 'PGLITE_DIR' | 'DATABASE_POOL_MAX'>,
): Promise<Knex> {
  if (config.DATABASE_URL) {
    return knexFactory({
      client: 'pg',
      connection: { connectionString: config.DATABASE_URL, application_name: 'oja' },
      pool: {
        min: 0,
        max: config.DATABASE_POOL_MAX,
        // A fresh connection gets bounded waits so a stuck lock cannot hang a request forever.
        // Named (prepared) statements are only the hot ones whose plan does not depend on the
        // values (checkout's, listing detail): always their generic plan, planned once per
        // connection (and again after an ANALYZE). Without it PostgreSQL keeps re-planning them
        // whenever the generic plan's estimate looks dearer (an `= any($1)` array of unknown
        // length does), and planning checkout's statements cost more than running them.
        afterCreate: (conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) => {
          conn.query(
            "SET statement_timeout = '30s'; SET lock_timeout = '10s'; SET plan_cache_mode = force_generic_plan",
            (err) => done(err ?? null, conn),
          )
        },
      },
      acquireConnectionTimeout: 10_000,
    })
  }
  const { PGlite, types } = await import('@electric-sql/pglite')
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm')
  const { cube } = await import('@electric-sql/pglite/contrib/cube')
  const { earthdistance } = await import('@electric-sql/pglite/contrib/earthdistance')
  const ClientPgLite = (await import('knex-pglite')).default
  const dir = path.resolve(config.PGLITE_DIR)
  mkdirSync(dir, { recursive: true })
  const pglite = new PGlite(dir, {
    extensions: { pg_trgm, cube, earthdistance },
    parsers: { [types.INT8]: (v: string) => Number(v), [types.NUMERIC]: (v: string) => Number(v) },
  })
  return knexFactory({ client: ClientPgLite, dialect: 'postgres', connection: { pglite } } as Knex.Config)
}

/** True when the handle runs on embedded PGlite (one connection, one process). */
export function isEmbedded(db: Knex): boolean {
  return db.client.config.client !== 'pg'
}

export { migrateLatest, migrationConfig } from './migrate.js'
export type { SqlValue, Table } from './tables.js'
export { createReadPool, type ReadPool } from './read-pool.js'
export { GroupCommit, type GroupCommitOptions, type ItemOutcome } from './group-commit.js'
/** Hot reads through named prepared statements or the read pool (see hot-query.ts). */
export { hotQuery, preparedRaw, type Bindings } from './hot-query.js'
