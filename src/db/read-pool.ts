import pg from 'pg'
import type { Config } from '../config.js'

/** A pool of plain pg connections for hot single-statement reads; see createReadPool. */
export type ReadPool = pg.Pool

/**
 * A small pool of its own for the hottest single-statement reads (listing detail), used
 * through pg's public API: Knex's query runner costs about 45 µs of Node CPU per query
 * (measured), a third of such a read. Only on PostgreSQL; the same 30 s statement timeout as
 * the main pool. `DATABASE_READ_POOL_MAX` connections per node, besides `DATABASE_POOL_MAX`.
 */
export function createReadPool(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_READ_POOL_MAX'>): ReadPool | null {
  if (!config.DATABASE_URL) return null
  const pool = new pg.Pool({
    connectionString: config.DATABASE_URL,
    application_name: 'oja-reads',
    max: config.DATABASE_READ_POOL_MAX,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
  })
  // An idle connection the server ends must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  return pool
}
