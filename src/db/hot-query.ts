import { createHash } from 'node:crypto'
import type { Db, Knex, ReadPool } from './index.js'

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

/** The statement with `$n` for each named binding present in `bindings`, and the keys in order; cached per text. */
const positional = new Map<string, { text: string; keys: string[] }>()
function toPositional(sql: string, bindings: Bindings): { text: string; keys: string[] } {
  const cacheKey = `${Object.keys(bindings).sort().join(',')}\n${sql}`
  let p = positional.get(cacheKey)
  if (!p) {
    const keys: string[] = []
    // As Knex does, `:word` is a binding only when `bindings` has that key (so `::jsonb` casts stay).
    const text = sql.replace(/:(\w+)/g, (match, key: string, offset: number) => {
      if (sql[offset - 1] === ':' || !Object.hasOwn(bindings, key)) return match
      let i = keys.indexOf(key)
      if (i < 0) i = keys.push(key) - 1
      return `$${i + 1}`
    })
    p = { text, keys }
    if (positional.size < 1000) positional.set(cacheKey, p)
  }
  return p
}

/**
 * A hot read. `prepared` (listing detail) makes it a named prepared statement on
 * PostgreSQL, parsed and planned once per connection. With a `reads` pool (and outside a
 * transaction) it runs there through pg's own API; otherwise through Knex, which passes a
 * raw query's `options` (the documented `.options()`) to the pg driver's query config. Browse
 * pages are prepared too; text and radius searches stay unnamed, so each is planned for its
 * own values (a generic plan cannot choose between a GIN bitmap and an index walk by the
 * term's frequency). On embedded PGlite it is
 * an ordinary raw query.
 */
export async function hotQuery<R extends object>(
  db: Db,
  sql: string,
  bindings: Bindings,
  opts: { prepared?: boolean; reads?: ReadPool | null } = {},
): Promise<R[]> {
  const inTransaction = 'isTransaction' in db && db.isTransaction === true
  if (opts.reads && !inTransaction) {
    const { text, keys } = toPositional(sql, bindings)
    const values = keys.map((k) => bindings[k])
    const result = await opts.reads.query<R>(
      opts.prepared ? { name: statementName(text), text, values } : { text, values },
    )
    return result.rows
  }
  const query = db.raw<{ rows: R[] }>(sql, bindings)
  if (opts.prepared && db.client.config.client === 'pg') query.options({ name: statementName(sql) })
  return (await query).rows
}

/**
 * A raw statement of the hot write path (a chat batch's lock, insert and event append), as a
 * named prepared statement on PostgreSQL: parsed and planned once per connection, in or out
 * of a transaction. Its text must not vary with its values: `?` bindings that are arrays stay
 * one parameter; a binding that is itself a raw statement is part of the text (and so of the
 * name), so it must be fixed text too (no query builders, whose text varies). Elsewhere
 * (PGlite) an ordinary raw query.
 */
export function preparedRaw<R = unknown>(db: Db, sql: string, bindings: readonly Knex.RawBinding[]): Knex.Raw<R> {
  const query = db.raw<R>(sql, bindings)
  if (db.client.config.client === 'pg') query.options({ name: statementName(rawText(sql, bindings)) })
  return query
}

/** A statement's text with the text of its raw bindings (what makes two prepared statements differ). */
function rawText(sql: string, bindings: readonly unknown[]): string {
  let text = sql
  for (const b of bindings)
    if (b !== null && typeof b === 'object' && 'sql' in b && typeof (b as unknown as Knex.Raw).toSQL === 'function') {
      const raw = b as unknown as { sql: string; bindings?: unknown[] }
      text += `\n--\n${rawText(raw.sql, Array.isArray(raw.bindings) ? raw.bindings : [])}`
    }
  return text
}
