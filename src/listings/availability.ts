import type { Db, Knex } from '../db/index.js'

/**
 * The one definition of "a live reservation", as SQL over the reservations row `r`: not
 * released, not converted into a sale, and not past its expires_at (expiry is lazy: an expired
 * reservation stops counting at once, and the sweeper releases it later).
 */
export function liveReservationSql(r = 'r'): string {
  return `${r}.released_at is null and ${r}.converted_at is null and ${r}.expires_at > now()`
}

/**
 * SQL for a listing's available quantity: quantity − sold − live reservations.
 * `alias` is the listings table's alias in the surrounding query.
 */
export function availableQuantitySql(db: Db, alias = 'listings'): Knex.Raw {
  return db.raw(
    `(??.quantity - ??.sold_quantity - coalesce((select sum(r.quantity) from reservations r
       where r.listing_id = ??.id and ${liveReservationSql('r')}), 0))::int`,
    [alias, alias, alias],
  )
}

/**
 * The one definition of "a listing this person may see": anything but a draft, and a draft
 * only by its own seller. Whoever cannot see a listing is answered as if it did not exist.
 */
export function isListingVisibleTo(
  listing: { status: string; seller_id: string } | { status: string; sellerId: string },
  viewerId: string | null | undefined,
): boolean {
  const sellerId = 'seller_id' in listing ? listing.seller_id : listing.sellerId
  return listing.status !== 'draft' || sellerId === viewerId
}

/** isListingVisibleTo as SQL over the listings row `l`; `viewer` is an SQL expression (or null for anyone). */
export function listingVisibleSql(l = 'l', viewer: string | null = null): string {
  return viewer ? `(${l}.status <> 'draft' or ${l}.seller_id = ${viewer})` : `${l}.status <> 'draft'`
}

/** isListingPublic as a status list (for `whereIn('l.status', ...)`). */
export const PUBLIC_LISTING_STATUSES: readonly string[] = ['active', 'sold']

/**
 * The statuses everyone sees: active and sold listings (search, wishlists, reports). Drafts
 * and removed listings are shown only to their seller and to admins (mayViewListing).
 */
export function isListingPublic(listing: { status: string }): boolean {
  return PUBLIC_LISTING_STATUSES.includes(listing.status)
}

/**
 * Who may open a listing's page or act on it as its seller: a public one anyone; a draft or
 * removed one its seller and admins. Whoever may not is answered LISTING_NOT_FOUND. (Chat's
 * rule, isListingVisibleTo, keeps removed listings visible to the people who talked about them.)
 */
export function mayViewListing(
  listing: { status: string; seller_id: string },
  viewer: { id: string; role?: string } | null | undefined,
): boolean {
  return isListingPublic(listing) || listing.seller_id === viewer?.id || viewer?.role === 'admin'
}
