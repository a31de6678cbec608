import { AppError } from '../shared/index.js'

/** Errors of the cart and of checkout's stock checks. */
export const CartErrors = {
  /** Not enough units left; `availableQuantity` says how many are. */
  outOfStock: (listingId: string, availableQuantity: number) =>
    new AppError(
      'OUT_OF_STOCK',
      409,
      availableQuantity > 0 ? `Only ${availableQuantity} left of this listing` : 'This listing is out of stock',
      { data: { listingId, availableQuantity } },
    ),
  listingUnavailable: (listingId: string) =>
    new AppError('LISTING_UNAVAILABLE', 409, 'This listing is not for sale', { data: { listingId } }),
  /** Either the buyer or the seller has blocked the other: no sale between them, as no chat. */
  blocked: (listingId: string) =>
    new AppError('BLOCKED', 403, 'One of you has blocked the other', { data: { listingId } }),
  ownListing: () => new AppError('OWN_LISTING', 403, 'You cannot buy your own listing'),
  giveawayLimit: (listingId: string) =>
    new AppError('GIVEAWAY_LIMIT', 409, 'A giveaway is limited to one unit per person', { data: { listingId } }),
  cartFull: (max: number) => new AppError('CART_FULL', 409, `A cart holds at most ${max} listings`),
  cartEmpty: () => new AppError('CART_EMPTY', 409, 'The cart is empty'),
  mixedCurrencies: () => new AppError('MIXED_CURRENCIES', 409, 'All lines of an order must be in one currency'),
}
