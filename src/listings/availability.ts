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

/** A listing's owner-ban flag, whichever case its row or record uses. */
type BanFlag = { seller_banned: boolean } | { sellerBanned: boolean }
const sellerBanned = (listing: BanFlag): boolean =>
  'seller_banned' in listing ? listing.seller_banned : listing.sellerBanned

/**
 * The one definition of "a listing this person may see": anything but a draft, and a draft
 * only by its own seller; a listing of a banned seller (`seller_banned`, set in the ban's
 * transaction and cleared by the unban) only by that seller. Whoever cannot see a listing is
 * answered as if it did not exist.
 */
export function isListingVisibleTo(
  listing: ({ status: string; seller_id: string } | { status: string; sellerId: string }) & BanFlag,
  viewerId: string | null | undefined,
): boolean {
  const sellerId = 'seller_id' in listing ? listing.seller_id : listing.sellerId
  if (sellerId === viewerId) return true
  return listing.status !== 'draft' && !sellerBanned(listing)
}

/** isListingVisibleTo as SQL over the listings row `l`; `viewer` is an SQL expression (or null for anyone). */
export function listingVisibleSql(l = 'l', viewer: string | null = null): string {
  const anyone = `(${l}.status <> 'draft' and not ${l}.seller_banned)`
  return viewer ? `(${anyone} or ${l}.seller_id = ${viewer})` : anyone
}

/**
 * "On sale", as SQL over the listings row `l`: active, and its seller not banned. Search and
 * browse use exactly this text: the partial indexes that serve them carry the same predicate
 * (migration 20261207140000), which the planner proves from the literal.
 */
export function listingOnSaleSql(l = 'l'): string {
  return `${l}.status = 'active' and not ${l}.seller_banned`
}

/** listingOnSaleSql for a row or record: what can be put in a cart, offered on or bought. */
export function isListingOnSale(listing: { status: string } & BanFlag): boolean {
  return listing.status === 'active' && !sellerBanned(listing)
}

/**
 * Taken off sale for good or until an unban: removed, or published by a seller who is now
 * banned (a draft stays a draft: hidden from everyone else). Cart and checkout answer such a
 * line LISTING_UNAVAILABLE (a sold-out one is OUT_OF_STOCK instead), and a payment arriving
 * for it is refunded (mayStillSell).
 */
export function isListingWithdrawn(listing: { status: string } & BanFlag): boolean {
  return listing.status === 'removed' || (listing.status !== 'draft' && sellerBanned(listing))
}

/**
 * Whether a paid checkout may still take its units: the listing is active or sold (its
 * own reservations may be what sold it out) and not withdrawn. Otherwise the payment is
 * refunded in full (payments' confirmation).
 */
export function mayStillSell(listing: { status: string } & BanFlag): boolean {
  return (listing.status === 'active' || listing.status === 'sold') && !sellerBanned(listing)
}

/** The statuses everyone sees (with the seller not banned): active and sold. */
const PUBLIC_LISTING_STATUSES: readonly string[] = ['active', 'sold']

/**
 * The listings everyone sees: active and sold ones of sellers who are not banned (search,
 * wishlists, reports). Drafts, removed listings and those of a banned seller are shown only
 * to their seller and to admins (mayViewListing).
 */
export function isListingPublic(listing: { status: string } & BanFlag): boolean {
  return PUBLIC_LISTING_STATUSES.includes(listing.status) && !sellerBanned(listing)
}

/** isListingPublic as SQL over the listings row `l`. */
export function listingPublicSql(l = 'l'): string {
  return `(${l}.status in ('active', 'sold') and not ${l}.seller_banned)`
}

/**
 * Who may open a listing's page or act on it as its seller: a public one anyone; a draft,
 * removed or banned seller's one its seller and admins. Whoever may not is answered
 * LISTING_NOT_FOUND. (Chat's rule, isListingVisibleTo, keeps removed listings visible to the
 * people who talked about them.)
 */
export function mayViewListing(
  listing: { status: string; seller_id: string; seller_banned: boolean },
  viewer: { id: string; role?: string } | null | undefined,
): boolean {
  return isListingPublic(listing) || listing.seller_id === viewer?.id || viewer?.role === 'admin'
}
