/** The public surface of src/wishlists: other folders import from here, never from its files. */

/** The feature's plugin: the wishlist routes. */
export { wishlistsFeature } from './wishlists.feature.js'

/** The table this feature owns. */
export type { WishlistRow } from './wishlists.tables.js'
