import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { wishlistsRoutes } from './wishlists.routes.js'
import { createWishlistsService } from './wishlists.service.js'

/** The wishlists feature: a user's favourite listings (routes). Price drops reach them through listings. */
export const wishlistsFeature = fp(
  async (app: FastifyInstance) => {
    await app.register(wishlistsRoutes, { wishlists: createWishlistsService({ blobs: app.blobs }) })
  },
  { name: 'oja-wishlists', dependencies: ['oja-auth', 'oja-images'] },
)
