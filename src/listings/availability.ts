import type { Db, Knex } from '../db/index.js'

/**
 * SQL for a listing's available quantity: quantity − sold − live reservations. A
 * reservation past its expires_at no longer counts, even before the sweeper releases it.
 * `alias` is the listings table's alias in the surrounding query.
 */
export function availableQuantitySql(db: Db, alias = 'listings'): Knex.Raw {
  return db.raw(
    `(??.quantity - ??.sold_quantity - coalesce((select sum(r.quantity) from reservations r
       where r.listing_id = ??.id and r.released_at is null and r.converted_at is null and r.expires_at > now()), 0))::int`,
    [alias, alias, alias],
  )
}
