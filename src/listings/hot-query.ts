import { createHash } from 'node:crypto'
import type { Db, Knex } from '../db/index.js'

/** Named bindings of a raw statement (`:name` in its text). */
export type Bindings = Knex.ValueDict

const names = new Map<string, string>()

/** The prepared statement's name: a digest of the text, so one text always has one name. */
function statementName(sql: string): string {
  let name = names.get(sql)
  if (name === undefined) {
    name = `oja_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`
    if (names.size < 1000) names.set(sql, name)
  }
  return name
}

/**
 * A hot read. `prepared` (listing detail) makes it a named prepared statement on
 * PostgreSQL, parsed and planned once per connection: Knex passes a raw query's `options`
 * to the pg driver's query config (the documented `.options()`), and pg prepares a named
 * statement once per connection and only sends the values afterwards. Search pages stay
 * unnamed, so each is planned for its own values (a generic plan cannot choose between a GIN
 * bitmap and an index walk by the term's frequency). On embedded PGlite it is an ordinary
 * raw query.
 */
export async function hotQuery<R>(
  db: Db,
  sql: string,
  bindings: Bindings,
  opts: { prepared?: boolean } = {},
): Promise<R[]> {
  const query = db.raw<{ rows: R[] }>(sql, bindings)
  if (opts.prepared && db.client.config.client === 'pg') query.options({ name: statementName(sql) })
  return (await query).rows
}
