import { AppError, Errors, defineError } from '../shared/index.js'

/** The catalogue's error codes (stable; clients switch on `code`). */
export const CatalogueErrors = {
  listingNotFound: () => Errors.notFound('Listing'),
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
  listingNotActive: defineError('LISTING_NOT_ACTIVE', 409, 'The listing is not active'),
  wantNotFound: () => Errors.notFound('Want'),
  wantClosed: defineError('WANT_CLOSED', 409, 'This want is closed'),
  ownWant: defineError('OWN_WANT', 409, 'You cannot answer your own want'),
  blocked: defineError('BLOCKED', 403, 'One of you has blocked the other'),
  invalid: (path: string, message: string) =>
    new AppError('VALIDATION_FAILED', 400, `${path}: ${message}`, { errors: [{ path, message }] }),
}
