/** The public surface of src/wishlists: other folders import from here, never from its files. */

export { wishlistsRoutes } from './wishlists.routes.js'
export { createWishlistsService } from './wishlists.service.js'
export type { WishlistsService } from './wishlists.service.js'
