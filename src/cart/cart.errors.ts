import { AccountErrors } from '../accounts/index.js'
import { ListingErrors } from '../listings/index.js'
import { defineError } from '../shared/index.js'

/** Errors of the cart and of checkout's stock checks. */
export const CartErrors = {
  /** Not enough units left; `availableQuantity` says how many are. */
  outOfStock: defineError(
    'OUT_OF_STOCK',
    409,
    (_listingId: string, availableQuantity: number) =>
      availableQuantity > 0 ? `Only ${availableQuantity} left of this listing` : 'This listing is out of stock',
    (listingId, availableQuantity) => ({ data: { listingId, availableQuantity } }),
  ),
  listingUnavailable: defineError(
    'LISTING_UNAVAILABLE',
    409,
    (_listingId: string) => 'This listing is not for sale',
    (listingId) => ({ data: { listingId } }),
  ),
  /** Either the buyer or the seller has blocked the other: no sale between them, as no chat. */
  blocked: (listingId: string) => AccountErrors.blocked().with({ data: { listingId } }),
  /** The listings feature's OWN_LISTING; buying answers it with 403, as it always has. */
  ownListing: () => ListingErrors.ownListing('buy').withStatus(403),
  giveawayLimit: defineError(
    'GIVEAWAY_LIMIT',
    409,
    (_listingId: string) => 'A giveaway is limited to one unit per person',
    (listingId) => ({ data: { listingId } }),
  ),
  /** An order line priced with an accepted offer that is no longer the buyer's to use (a late payment). */
  offerGone: defineError(
    'OFFER_NO_LONGER_VALID',
    409,
    (_listingId: string) => 'The accepted offer for this listing has expired or was used by another order',
    (listingId) => ({ data: { listingId } }),
  ),
  cartFull: defineError('CART_FULL', 409, (max: number) => `A cart holds at most ${max} listings`),
  cartEmpty: defineError('CART_EMPTY', 409, 'The cart is empty'),
  mixedCurrencies: defineError('MIXED_CURRENCIES', 409, 'All lines of an order must be in one currency'),
}
