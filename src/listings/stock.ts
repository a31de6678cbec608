import type { Db } from '../db/index.js'

/** Units per listing: listing id → units. */
export type UnitsByListing = ReadonlyMap<string, number>

const unitsJson = (units: UnitsByListing) =>
  JSON.stringify([...units].map(([listing_id, qty]) => ({ listing_id, qty })))

/**
 * Sold units leave the stock: sold_quantity grows, and an active listing with none left
 * becomes `sold`. The caller (a confirmed payment) has checked, under the listing locks,
 * that the units are there.
 */
export async function recordSales(db: Db, units: UnitsByListing): Promise<void> {
  if (units.size === 0) return
  await db.raw(
    `update listings l set sold_quantity = l.sold_quantity + u.qty,
            status = case when l.status = 'active' and l.sold_quantity + u.qty >= l.quantity then 'sold' else l.status end,
            updated_at = now()
     from jsonb_to_recordset(:units::jsonb) as u(listing_id uuid, qty int)
     where l.id = u.listing_id`,
    { units: unitsJson(units) },
  )
}

/** Sold units go back on sale (a paid order cancelled before shipping); a sold-out listing is active again. */
export async function returnSales(db: Db, units: UnitsByListing): Promise<void> {
  if (units.size === 0) return
  await db.raw(
    `update listings l set sold_quantity = greatest(l.sold_quantity - u.qty, 0),
            status = case when l.status = 'sold' then 'active' else l.status end,
            updated_at = now()
     from jsonb_to_recordset(:units::jsonb) as u(listing_id uuid, qty int)
     where l.id = u.listing_id`,
    { units: unitsJson(units) },
  )
}
