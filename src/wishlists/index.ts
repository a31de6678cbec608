/** The public surface of src/wishlists: other folders import from here, never from its files. */

/** The feature's plugin: the wishlist routes and the price-drop worker (`app.priceDrops`). */
export { wishlistsFeature } from './wishlists.feature.js'

/**
 * A price drop, recorded in the caller's transaction as one outbox row (listings' PATCH);
 * this feature's workers fan it out to the wishlisters after commit.
 */
export { queuePriceDrop, PriceDropWorker } from './price-drops.js'
export type { FanoutBatch, PriceDrop, PriceDropWorkerOptions } from './price-drops.js'

/** The tables this feature owns. */
export type { PriceDropAlertRow, PriceDropFanoutRow, WishlistRow } from './wishlists.tables.js'
