import type { Db } from '../db/index.js'
import type { Knex } from 'knex'

/** A listing as the cart and checkout see it: price and what is left to buy. */
export type ListingStock = {
  id: string
  sellerId: string
  title: string
  type: 'sale' | 'giveaway'
  price: number
  currency: string
  status: string
  quantity: number
  soldQuantity: number
  /** Units held by live reservations (of other orders, when one is excluded). */
  held: number
  available: number
  /** With `buyerId`: the buyer's accepted, unexpired, unused offer, whose amount replaces the price. */
  offer?: { id: string; amount: number }
  /** With `buyerId`: a giveaway this buyer already has (or holds in a live order). */
  giveawayTaken?: boolean
  /** With `buyerId`: the buyer and the seller have blocked each other (either way). */
  blocked?: boolean
}

type StockRow = {
  id: string
  seller_id: string
  title: string
  type: 'sale' | 'giveaway'
  price: number
  currency: string
  status: string
  quantity: number
  sold_quantity: number
  held: number
  offer_id?: string | null
  offer_amount?: number | null
  giveaway_taken?: boolean
  blocked?: boolean
}

/** An order that still holds or owns its lines: not failed, not abandoned, not cancelled. */
export const LIVE_ORDER_SQL = "o.payment_status not in ('failed','expired') and o.cancelled_at is null"

/**
 * Stock of listings: quantity − sold − live reservations (a reservation past expires_at
 * no longer counts). `exceptOrderId` leaves that order out (its reservations, and its use
 * of an offer or a giveaway), to ask whether the order itself can still have its units.
 * `buyerId` adds, in the same statement, the buyer's usable accepted offer, whether a
 * giveaway is already theirs and whether buyer and seller have blocked each other.
 *
 * Under a row lock, call this in a statement AFTER the one that took the lock: in READ
 * COMMITTED a statement that waited for a lock still reads other tables with the snapshot
 * it started with, and would miss a reservation committed meanwhile.
 */
export async function listingStock(
  db: Db,
  ids: string[],
  opts: { exceptOrderId?: string; buyerId?: string } = {},
): Promise<Map<string, ListingStock>> {
  if (ids.length === 0) return new Map()
  const { sql, bindings } = stockQuery(ids, opts)
  const { rows } = (await db.raw(sql, bindings)) as { rows: StockRow[] }
  return toStock(rows, opts.buyerId !== undefined)
}

/**
 * Checkout's locked step in one statement: reads the stock of the (already locked) listings
 * as `listingStock` does, and inserts the order's reservations. The statement's snapshot
 * does not see its own insert, so the stock read is the stock before this order; the
 * caller checks it and throws (rolling the transaction and the reservations back) when a
 * line no longer fits. One round trip less while the listing locks are held.
 */
export async function stockAndReserve(
  db: Db,
  ids: string[],
  opts: { buyerId: string; orderId: string; expiresAt: Date; lines: { listing_id: string; quantity: number }[] },
): Promise<Map<string, ListingStock>> {
  const { sql, bindings } = stockQuery(ids, { buyerId: opts.buyerId, exceptOrderId: opts.orderId })
  const { rows } = (await db.raw(
    `with stock as (${sql}),
     reserved as (
       insert into reservations (listing_id, buyer_id, order_id, quantity, expires_at)
       select x.listing_id, ?::uuid, ?::uuid, x.quantity, ?::timestamptz
       from jsonb_to_recordset(?::jsonb) as x(listing_id uuid, quantity int)
     )
     select * from stock`,
    [...bindings, opts.buyerId, opts.orderId, opts.expiresAt, JSON.stringify(opts.lines)],
  )) as { rows: StockRow[] }
  return toStock(rows, true)
}

function stockQuery(
  ids: string[],
  opts: { exceptOrderId?: string; buyerId?: string },
): { sql: string; bindings: Knex.RawBinding[] } {
  const buyer = opts.buyerId
  const sql = `select l.id, l.seller_id, l.title, l.type, l.price, l.currency, l.status, l.quantity, l.sold_quantity, coalesce(h.held, 0)::int as held
       ${
         buyer
           ? `, f.id as offer_id, f.amount as offer_amount, g.taken as giveaway_taken,
         exists (select 1 from blocks b where (b.blocker_id = l.seller_id and b.blocked_id = ?::uuid) or (b.blocker_id = ?::uuid and b.blocked_id = l.seller_id)) as blocked`
           : ''
       }
     from listings l
     left join lateral (
       select sum(r.quantity) as held from reservations r
       where r.listing_id = l.id and r.released_at is null and r.converted_at is null and r.expires_at > now()
         and r.order_id is distinct from ?::uuid
     ) h on true
     ${
       buyer
         ? `left join lateral (
       select f.id, f.amount from offers f
       where f.listing_id = l.id and f.buyer_id = ?::uuid and f.status = 'accepted' and f.expires_at > now()
         and not exists (select 1 from order_items oi join orders o on o.id = oi.order_id where oi.offer_id = f.id and ${LIVE_ORDER_SQL} and o.id is distinct from ?::uuid)
       order by f.amount limit 1
     ) f on true
     left join lateral (
       select l.type = 'giveaway' and exists (
         select 1 from order_items oi join orders o on o.id = oi.order_id
         where oi.listing_id = l.id and o.buyer_id = ?::uuid and oi.listing_type = 'giveaway' and ${LIVE_ORDER_SQL} and o.id is distinct from ?::uuid) as taken
     ) g on true`
         : ''
     }
     where l.id = any(?::uuid[])`
  const except = opts.exceptOrderId ?? null
  return { sql, bindings: buyer ? [buyer, buyer, except, buyer, except, buyer, except, ids] : [except, ids] }
}

function toStock(rows: StockRow[], withBuyer: boolean): Map<string, ListingStock> {
  return new Map(
    rows.map((r) => [
      r.id,
      {
        id: r.id,
        sellerId: r.seller_id,
        title: r.title,
        type: r.type,
        price: r.price,
        currency: r.currency,
        status: r.status,
        quantity: r.quantity,
        soldQuantity: r.sold_quantity,
        held: r.held,
        available: r.status === 'active' ? Math.max(0, r.quantity - r.sold_quantity - r.held) : 0,
        ...(withBuyer
          ? {
              giveawayTaken: r.giveaway_taken === true,
              blocked: r.blocked === true,
              ...(r.offer_id ? { offer: { id: r.offer_id, amount: r.offer_amount! } } : {}),
            }
          : {}),
      },
    ]),
  )
}

/**
 * Locks listing rows in id order (the order every writer uses, so no deadlock). FOR NO KEY
 * UPDATE, the lock an UPDATE of non-key columns takes: it does not wait for, nor block, the
 * KEY SHARE locks that inserting rows which reference a listing (order lines, reservations,
 * offers, wishlists) take.
 */
export async function lockListings(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return
  await db.raw('select id from listings where id = any(?::uuid[]) order by id for no key update', [
    [...new Set(ids)].sort(),
  ])
}
