import { blockedEitherWaySql } from '../accounts/index.js'
import type { Db } from '../db/index.js'
import { hotQuery } from '../db/index.js'
import { isListingOnSale, liveReservationSql } from '../listings/index.js'
import { liveOrderSql } from '../orders/index.js'
import { CartErrors } from './cart.errors.js'

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
  /** With `buyerId`: the buyer's accepted, unexpired, unused offer: its amount replaces the price of up to `quantity` units. */
  offer?: { id: string; amount: number; quantity: number }
  /** With `buyerId`: a giveaway this buyer already has (or holds in a live order). */
  giveawayTaken?: boolean
  /** With `buyerId`: the buyer and the seller have blocked each other (either way). */
  blocked?: boolean
  /** With `buyerId`: units of this listing the buyer's own live reservations hold (other orders), and until when the first does. */
  heldByBuyer?: number
  heldByBuyerUntil?: Date | null
  /** With `buyerId`: the buyer's checkouts (other orders) whose reservations are live, and when the first ends. */
  buyerUnpaidCheckouts?: number
  buyerUnpaidUntil?: Date | null
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
  offer_quantity?: number | null
  giveaway_taken?: boolean
  blocked?: boolean
  mine?: number
  mine_until?: Date | null
  unpaid?: number
  unpaid_until?: Date | null
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
  // Prepared: its text depends only on whether there is a buyer, and parsing and planning it
  // cost more than running it.
  const rows = await hotQuery<StockRow>(db, sql, bindings, { prepared: true })
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
  const rows = await hotQuery<StockRow>(
    db,
    `with stock as (${sql}),
     reserved as (
       insert into reservations (listing_id, buyer_id, order_id, quantity, expires_at)
       select x.listing_id, :buyerId::uuid, :orderId::uuid, x.quantity, :expiresAt::timestamptz
       from jsonb_to_recordset(:lines::jsonb) as x(listing_id uuid, quantity int)
     )
     select * from stock`,
    { ...bindings, orderId: opts.orderId, expiresAt: opts.expiresAt, lines: JSON.stringify(opts.lines) },
    { prepared: true },
  )
  return toStock(rows, true)
}

/**
 * A checkout's first read, in one statement: the buyer's email, the cart's coupon and lines
 * (by listing id) and, for those lines, the stock as `listingStock(..., { buyerId })` reads it.
 * Undefined when the buyer's row is gone. A line whose listing is gone has no stock entry.
 */
export async function cartWithStock(
  db: Db,
  buyerId: string,
): Promise<
  | {
      email: string
      cartCoupon: string | null
      lines: { listing_id: string; quantity: number }[]
      stock: Map<string, ListingStock>
    }
  | undefined
> {
  const { sql, bindings } = stockQuery(null, { buyerId })
  const rows = await hotQuery<
    { email: string; cart_coupon: string | null; line_listing_id: string | null; line_quantity: number | null } & {
      [K in keyof StockRow]: StockRow[K] | null
    }
  >(
    db,
    `with cart as (select ci.listing_id, ci.quantity from cart_items ci where ci.user_id = :buyerId::uuid),
     stock as (${sql})
     select u.email, k.code as cart_coupon, c.listing_id as line_listing_id, c.quantity as line_quantity, s.*
     from users u
     left join carts ct on ct.user_id = u.id
     left join coupons k on k.id = ct.coupon_id
     left join cart c on true
     left join stock s on s.id = c.listing_id
     where u.id = :buyerId::uuid
     order by c.listing_id`,
    bindings,
    { prepared: true },
  )
  const first = rows[0]
  if (!first) return undefined
  const lines = rows.flatMap((r) =>
    r.line_listing_id === null ? [] : [{ listing_id: r.line_listing_id, quantity: r.line_quantity! }],
  )
  const stock = toStock(
    rows.filter((r): r is typeof r & StockRow => r.id !== null),
    true,
  )
  return { email: first.email, cartCoupon: first.cart_coupon, lines, stock }
}

/** The stock statement: of the listings `ids`, or (null) of the listings in a CTE `cart` the caller defines. */
function stockQuery(
  ids: string[] | null,
  opts: { exceptOrderId?: string; buyerId?: string },
): { sql: string; bindings: { buyerId?: string; exceptOrderId: string | null; ids?: string[] } } {
  const buyer = opts.buyerId
  const sql = `select l.id, l.seller_id, l.title, l.type, l.price, l.currency, l.status, l.seller_banned, l.quantity, l.sold_quantity, coalesce(h.held, 0)::int as held
       ${
         buyer
           ? `, f.id as offer_id, f.amount as offer_amount, f.quantity as offer_quantity, g.taken as giveaway_taken,
         ${blockedEitherWaySql('l.seller_id', ':buyerId::uuid')} as blocked,
         coalesce(h.mine, 0)::int as mine, h.mine_until, b.unpaid, b.unpaid_until`
           : ''
       }
     from listings l
     left join lateral (
       select sum(r.quantity) as held${
         buyer
           ? `, sum(r.quantity) filter (where r.buyer_id = :buyerId::uuid) as mine,
              min(r.expires_at) filter (where r.buyer_id = :buyerId::uuid) as mine_until`
           : ''
       }
       from reservations r
       where r.listing_id = l.id and ${liveReservationSql('r')}
         and r.order_id is distinct from :exceptOrderId::uuid
     ) h on true
     ${
       buyer
         ? `left join lateral (
       select count(distinct r.order_id)::int as unpaid, min(r.expires_at) as unpaid_until from reservations r
       where r.buyer_id = :buyerId::uuid and ${liveReservationSql('r')} and r.order_id is distinct from :exceptOrderId::uuid
     ) b on true
     left join lateral (
       select f.id, f.amount, f.quantity from offers f
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
     where ${ids ? 'l.id = any(:ids::uuid[])' : 'l.id in (select cart.listing_id from cart)'}`
  const exceptOrderId = opts.exceptOrderId ?? null
  return {
    sql,
    bindings: { ...(buyer ? { buyerId: buyer } : {}), exceptOrderId, ...(ids ? { ids } : {}) },
  }
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
              heldByBuyer: r.mine ?? 0,
              heldByBuyerUntil: r.mine_until ?? null,
              buyerUnpaidCheckouts: r.unpaid ?? 0,
              buyerUnpaidUntil: r.unpaid_until ?? null,
              ...(r.offer_id
                ? { offer: { id: r.offer_id, amount: r.offer_amount!, quantity: r.offer_quantity ?? 1 } }
                : {}),
            }
          : {}),
      },
    ]),
  )
}

/**
 * The unit price of a line the buyer may have (lineRefusal passed): the accepted offer's, or
 * the listing's. lineRefusal refuses a line of more units than the offer was agreed for
 * (OFFER_QUANTITY_EXCEEDED) rather than pricing it at the offer throughout.
 */
export function linePrice(s: ListingStock): { unitPrice: number; offerId: string | null } {
  return s.offer ? { unitPrice: s.offer.amount, offerId: s.offer.id } : { unitPrice: s.price, offerId: null }
}

/** How many unpaid checkouts a buyer may hold, and what share of a listing across several. */
export type ReservationLimits = { maxUnpaidCheckouts: number; maxSharePercent: number }

const secondsUntil = (at: Date | null | undefined) =>
  Math.max(1, Math.ceil(((at?.getTime() ?? Date.now()) - Date.now()) / 1000))

/**
 * The reservation caps of a checkout with something to pay (read with `buyerId`, this order
 * excluded): the buyer may hold at most `maxUnpaidCheckouts` unpaid checkouts with live
 * reservations at once (TOO_MANY_UNPAID_CHECKOUTS), and while they already hold units of a
 * listing in another unpaid checkout, they may hold at most `maxSharePercent` of its stock
 * left (at least one unit) across their checkouts (RESERVATION_LIMIT). One checkout may take
 * any quantity that is available. Both answer 429 with Retry-After: when the buyer's first
 * hold ends. A limit of 0 turns it off.
 */
export function assertReservationCaps(
  lines: { listing_id: string; quantity: number }[],
  stock: Map<string, ListingStock>,
  limits: ReservationLimits,
): void {
  const held = lines.map((l) => ({ line: l, s: stock.get(l.listing_id)! }))
  if (!held.some(({ s }) => s.type === 'sale')) return
  const first = held[0]!.s
  if (limits.maxUnpaidCheckouts > 0 && (first.buyerUnpaidCheckouts ?? 0) >= limits.maxUnpaidCheckouts)
    throw CartErrors.tooManyUnpaidCheckouts(limits.maxUnpaidCheckouts, secondsUntil(first.buyerUnpaidUntil))
  if (limits.maxSharePercent <= 0) return
  for (const { line, s } of held) {
    const mine = s.heldByBuyer ?? 0
    if (mine === 0) continue
    const cap = Math.max(1, Math.floor(((s.quantity - s.soldQuantity) * limits.maxSharePercent) / 100))
    if (mine + line.quantity > cap)
      throw CartErrors.reservationLimit(s.id, Math.max(0, cap - mine), secondsUntil(s.heldByBuyerUntil))
  }
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
export async function lockListings(db: Db, ids: string[], opts: { buyerId?: string } = {}): Promise<void> {
  const listingIds = [...new Set(ids)].sort()
  // A checkout first takes its buyer's lock (always before any listing's, so no deadlock): the
  // buyer's checkouts then run one at a time, and the caps on their reservations hold. In the
  // same statement: the lock is a one-time filter, evaluated before the first row is locked.
  if (opts.buyerId)
    await hotQuery(
      db,
      `with buyer as (select pg_advisory_xact_lock(hashtextextended('checkout-buyer:' || :buyerId::text, 0)))
       select l.id from listings l
       where exists (select 1 from buyer) and l.id = any(:ids::uuid[])
       order by l.id for no key update of l`,
      { buyerId: opts.buyerId, ids: listingIds },
      { prepared: true },
    )
  else if (listingIds.length > 0)
    await db.raw('select id from listings where id = any(?::uuid[]) order by id for no key update', [listingIds])
}
