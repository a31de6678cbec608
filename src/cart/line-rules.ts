import { ListingErrors, isListingVisibleTo, isListingWithdrawn } from '../listings/index.js'
import type { AppError } from '../shared/index.js'
import { CartErrors } from './cart.errors.js'
import type { ListingStock } from './pricing.js'

/** A line to buy: a listing, how many, and (for an order already written) the offer it was priced with. */
export type BuyLine = { listingId: string; quantity: number; offerId?: string | null }

/**
 * The one definition of "this buyer may have this line now", over the listing's stock as
 * `listingStock(..., { buyerId })` reads it: not withdrawn (removed, seller banned), visible, not their own, nobody
 * blocked, at most one unit of a giveaway and never a second one, enough units left, and,
 * when the line was priced with an accepted offer, that offer still theirs to use (accepted,
 * unexpired, not used by another live order), and an offer's price for at most its quantity. The cart, checkout and a late payment apply it;
 * it answers the first rule broken, or undefined.
 */
export function lineRefusal(s: ListingStock | undefined, buyerId: string, line: BuyLine): AppError | undefined {
  if (!s) return ListingErrors.listingNotFound()
  // Removed, or its seller banned: LISTING_UNAVAILABLE, before "hidden" would hide it.
  if (isListingWithdrawn(s)) return CartErrors.listingUnavailable(line.listingId)
  if (!isListingVisibleTo(s, buyerId)) return ListingErrors.listingNotFound()
  if (s.sellerId === buyerId) return CartErrors.ownListing()
  if (s.blocked) return CartErrors.blocked(line.listingId)
  if (s.type === 'giveaway' && (line.quantity > 1 || s.giveawayTaken)) return CartErrors.giveawayLimit(line.listingId)
  if (line.quantity > s.available) return CartErrors.outOfStock(line.listingId, s.available)
  if (line.offerId && s.offer?.id !== line.offerId) return CartErrors.offerGone(line.listingId)
  // An accepted offer prices at most the units it was agreed for.
  if (s.offer && line.quantity > s.offer.quantity)
    return CartErrors.offerQuantityExceeded(line.listingId, s.offer.quantity)
  return undefined
}
