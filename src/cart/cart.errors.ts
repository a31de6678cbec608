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
  /** The buyer's accepted offer was agreed for fewer units than the line has. */
  offerQuantityExceeded: defineError(
    'OFFER_QUANTITY_EXCEEDED',
    409,
    (_listingId: string, offerQuantity: number) =>
      `Your accepted offer is for ${offerQuantity} unit${offerQuantity === 1 ? '' : 's'}; buy at most that many at its price`,
    (listingId, offerQuantity) => ({ data: { listingId, offerQuantity } }),
  ),
  /** The buyer already holds the most unpaid checkouts allowed at once (CHECKOUT_MAX_UNPAID). */
  tooManyUnpaidCheckouts: defineError(
    'TOO_MANY_UNPAID_CHECKOUTS',
    429,
    (max: number, _retryAfterSeconds: number) =>
      `You have ${max} unpaid checkout${max === 1 ? '' : 's'} holding stock; pay or cancel one, or wait for it to expire`,
    (max, retryAfterSeconds) => ({
      data: { maxUnpaidCheckouts: max },
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  ),
  /** Across several unpaid checkouts a buyer may hold only a share of a listing (RESERVATION_MAX_SHARE_PERCENT). */
  reservationLimit: defineError(
    'RESERVATION_LIMIT',
    429,
    (_listingId: string, _moreAllowed: number, _retryAfterSeconds: number) =>
      'Your unpaid checkouts already hold your share of this listing; pay or cancel them first',
    (listingId, moreAllowed, retryAfterSeconds) => ({
      data: { listingId, moreAllowed },
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  ),
}
