/** The public surface of src/cart: other folders import from here, never from its files. */

/** The feature's plugin (routes and the reservations job). */
export { cartFeature } from './cart.plugin.js'
/** Errors of the cart and of checkout's stock checks. */
export { CartErrors } from './cart.errors.js'
/** Stock as the cart and checkout see it, and the listing locks every stock writer takes (caller's transaction). */
export {
  assertReservationCaps,
  cartWithStock,
  linePrice,
  listingStock,
  lockListings,
  stockAndReserve,
} from './pricing.js'
export type { ListingStock, ReservationLimits } from './pricing.js'
/** The one definition of "this buyer may have this line now" (cart, checkout, a late payment). */
export { lineRefusal } from './line-rules.js'
export type { BuyLine } from './line-rules.js'
/** The checkout's stock holds (reservations), written in the caller's transaction. */
export { convertReservations, releaseReservations } from './pricing.js'
/** Cart lines leaving after a sale or a moderator's removal (caller's transaction). */
export { removeBoughtFromCart, removeListingFromCarts } from './cart.service.js'
/** Its rows. */
export type { CartItemRow, CartRow, ReservationRow } from './cart.tables.js'
