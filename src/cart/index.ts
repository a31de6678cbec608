/** The public surface of src/cart: other folders import from here, never from its files. */

export { CartErrors } from './cart.errors.js'
export { cartRoutes } from './cart.routes.js'
export { listingStock, lockListings, stockAndReserve } from './pricing.js'
export type { ListingStock } from './pricing.js'
