import { Errors, defineError } from '../shared/index.js'

/**
 * A field the schema cannot check (a whitespace-only title, lat without lng): a 400 naming
 * the field. The one home of this shape for listings, wants and wishlists.
 */
export const invalidField = (path: string, message: string) =>
  Errors.validation(`${path}: ${message}`, [{ path, message }])

/** The error codes of listings, their photos and reports (stable; clients switch on `code`). */
export const ListingErrors = {
  /** No such listing, or one the caller may not see (answered alike). */
  listingNotFound: defineError('LISTING_NOT_FOUND', 404, 'Listing not found'),
  /** The listing exists but cannot be talked about or bought any more (removed). */
  listingNotAvailable: defineError('LISTING_NOT_AVAILABLE', 409, 'The listing is not available'),
  /** An action that needs an active listing (a want answered with a draft or a sold listing). */
  listingNotActive: defineError('LISTING_NOT_ACTIVE', 409, 'The listing is not active'),
  imageNotFound: () => Errors.notFound('Photo'),
  notOwner: () => Errors.forbidden('Only the seller may change this listing'),
  /** The listing was removed; it can no longer change. */
  listingRemoved: defineError('LISTING_REMOVED', 409, 'This listing has been removed'),
  /** A status change the lifecycle does not allow (draft ⇄ active, sold → active after a restock). */
  invalidTransition: defineError(
    'INVALID_STATUS_TRANSITION',
    409,
    (from: string, to: string) => `A ${from} listing cannot become ${to}`,
  ),
  soldOut: defineError('LISTING_SOLD_OUT', 409, 'Every unit is sold; raise the quantity to relist'),
  /** The new quantity is below what is already sold or held by live reservations. */
  quantityBelowCommitted: defineError(
    'QUANTITY_BELOW_COMMITTED',
    409,
    (committed: number) => `${committed} units are already sold or reserved`,
  ),
  tooManyImages: defineError('TOO_MANY_IMAGES', 409, (max: number) => `A listing has at most ${max} photos`),
  imageOrderMismatch: defineError(
    'IMAGE_ORDER_MISMATCH',
    400,
    'imageIds must list every photo of the listing exactly once',
  ),
  ownListing: defineError('OWN_LISTING', 409, (what: string) => `You cannot ${what} your own listing`),
  alreadyReported: defineError('ALREADY_REPORTED', 409, 'You have already reported this listing'),
}
