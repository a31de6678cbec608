import { blockedEitherWaySql } from '../accounts/index.js'
import type { Db } from '../db/index.js'
import { isListingOnSale, liveReservationSql } from '../listings/index.js'
import { liveOrderSql } from '../orders/index.js'

/** A listing as the cart and checkout see it: price and what is left to buy. */
export type ListingStock = {
  id: string
  sellerId: string
  title: string
  type: 'sale' | 'giveaway'
  price: number
  currency: string
  status: string
  /** The seller is banned: nothing of it can be bought until the unban. */
  sellerBanned: boolean
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
  seller_banned: boolean
  quantity: number
  sold_quantity: number
  held: number
  offer_id?: string | null
  offer_amount?: number | null
  giveaway_taken?: boolean
  blocked?: boolean
}

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
  const { rows } = await db.raw<{ rows: StockRow[] }>(sql, bindings)
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
  const { rows } = await db.raw<{ rows: StockRow[] }>(
    `with stock as (${sql}),
     reserved as (
       insert into reservations (listing_id, buyer_id, order_id, quantity, expires_at)
       select x.listing_id, :buyerId::uuid, :orderId::uuid, x.quantity, :expiresAt::timestamptz
       from jsonb_to_recordset(:lines::jsonb) as x(listing_id uuid, quantity int)
     )
     select * from stock`,
    { ...bindings, orderId: opts.orderId, expiresAt: opts.expiresAt, lines: JSON.stringify(opts.lines) },
  )
  return toStock(rows, true)
}

function stockQuery(
  ids: string[],
  opts: { exceptOrderId?: string; buyerId?: string },
): { sql: string; bindings: { buyerId?: string; exceptOrderId: string | null; ids: string[] } } {
  const buyer = opts.buyerId
  const sql = `select l.id, l.seller_id, l.title, l.type, l.price, l.currency, l.status, l.seller_banned, l.quantity, l.sold_quantity, coalesce(h.held, 0)::int as held
       ${
         buyer
           ? `, f.id as offer_id, f.amount as offer_amount, g.taken as giveaway_taken,
         ${blockedEitherWaySql('l.seller_id', ':buyerId::uuid')} as blocked`
           : ''
       }
     from listings l
     left join lateral (
       select sum(r.quantity) as held from reservations r
       where r.listing_id = l.id and ${liveReservationSql('r')}
         and r.order_id is distinct from :exceptOrderId::uuid
     ) h on true
     ${
       buyer
         ? `left join lateral (
       select f.id, f.amount from offers f
       where f.listing_id = l.id and f.buyer_id = :buyerId::uuid and f.status = 'accepted' and f.expires_at > now()
         and not exists (select 1 from order_items oi join orders o on o.id = oi.order_id where oi.offer_id = f.id and ${liveOrderSql('o')} and o.id is distinct from :exceptOrderId::uuid)
       order by f.amount limit 1
     ) f on true
     left join lateral (
       select l.type = 'giveaway' and exists (
         select 1 from order_items oi join orders o on o.id = oi.order_id
         where oi.listing_id = l.id and o.buyer_id = :buyerId::uuid and oi.listing_type = 'giveaway' and ${liveOrderSql('o')} and o.id is distinct from :exceptOrderId::uuid) as taken
     ) g on true`
         : ''
     }
     where l.id = any(:ids::uuid[])`
  const exceptOrderId = opts.exceptOrderId ?? null
  return { sql, bindings: buyer ? { buyerId: buyer, exceptOrderId, ids } : { exceptOrderId, ids } }
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
        sellerBanned: r.seller_banned,
        quantity: r.quantity,
        soldQuantity: r.sold_quantity,
        held: r.held,
        available: isListingOnSale(r) ? Math.max(0, r.quantity - r.sold_quantity - r.held) : 0,
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

/** Reservations of an order that still hold turn into sold units (the order is paid). */
export async function convertReservations(db: Db, orderId: string): Promise<void> {
  await db('reservations')
    .where('order_id', orderId)
    .whereNull('released_at')
    .whereNull('converted_at')
    .update({ converted_at: db.fn.now() })
}

/** Reservations of an order that still hold are let go (the order failed, expired or was cancelled unpaid). */
export async function releaseReservations(db: Db, orderId: string): Promise<void> {
  await db('reservations')
    .where('order_id', orderId)
    .whereNull('released_at')
    .whereNull('converted_at')
    .update({ released_at: db.fn.now() })
}

/**
 * Background job: marks expired reservations released (they stopped counting at expiry);
 * rows busy in a confirm are left for next time.
 */
export async function releaseExpiredReservations(db: Db): Promise<number> {
  const { rowCount } = await db.raw<{ rowCount: number }>(
    `update reservations set released_at = now()
       where id in (select id from reservations where released_at is null and converted_at is null and expires_at < now() limit 1000 for update skip locked)`,
  )
  return rowCount
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
