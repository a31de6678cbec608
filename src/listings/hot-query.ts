import { createHash } from 'node:crypto'
import type { Db, Knex } from '../db/index.js'

type PgConnection = { query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }> }

const positional = new Map<string, { text: string; name: string }>()

/** `?` placeholders to `$n` (the hot queries hold no `?` inside literals), cached per text. */
function prepare(sql: string): { text: string; name: string } {
  let p = positional.get(sql)
  if (!p) {
    let n = 0
    const text = sql.replace(/\?/g, () => `$${++n}`)
    p = { text, name: `oja_${createHash('sha1').update(text).digest('hex').slice(0, 20)}` }
    if (positional.size < 1000) positional.set(sql, p)
  }
  return p
}

/**
 * A hot read straight on a pooled PostgreSQL connection, free of Knex's per-query runner
 * work. `prepared` (listing detail) makes it a named prepared statement, parsed and planned
 * once per connection; search pages stay unnamed, so each is planned for its own values
 * (a generic plan cannot choose between a GIN bitmap and an index walk by the term's
 * frequency). Inside a transaction, or on embedded PGlite, it is an ordinary Knex raw query.
 */
export async function hotQuery<T>(
  db: Db,
  sql: string,
  bindings: unknown[],
  opts: { prepared?: boolean } = {},
): Promise<T[]> {
  const pooled = db.client.config.client === 'pg' && !('isTransaction' in db && db.isTransaction)
  if (!pooled) return ((await db.raw(sql, bindings as Knex.RawBinding[])) as { rows: T[] }).rows
  const { text, name } = prepare(sql)
  const conn = (await db.client.acquireConnection()) as PgConnection
  try {
    return (await conn.query(opts.prepared === false ? { text, values: bindings } : { name, text, values: bindings }))
      .rows as T[]
  } finally {
    await db.client.releaseConnection(conn)
  }
}
