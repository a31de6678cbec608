import { mkdirSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { blobDeletionJob } from '../images/index.js'
import { createBlobStore, LocalBlobStore, type BlobStore } from '../images/index.js'
import { listingImagesRoutes } from '../listings/index.js'
import { createListingImagesService, type ListingImagesService } from '../listings/index.js'
import { listingsRoutes } from '../listings/index.js'
import { createSearchService, type SearchService } from '../listings/index.js'
import { createListingsService, type ListingsService } from '../listings/index.js'
import { wantsRoutes } from '../wants/index.js'
import { createWantsService, type WantsService } from '../wants/index.js'
import { wishlistsRoutes } from '../wishlists/index.js'
import { createWishlistsService, type WishlistsService } from '../wishlists/index.js'

export { availableQuantitySql } from '../listings/index.js'
export type { BlobStore } from '../images/index.js'

/** What other features may use of the catalogue (e.g. trust's admin removal calls `listings.remove`). */
export type Catalogue = {
  blobs: BlobStore
  listings: ListingsService
  images: ListingImagesService
  search: SearchService
  wants: WantsService
  wishlists: WishlistsService
}

declare module 'fastify' {
  interface FastifyInstance {
    catalogue: Catalogue
  }
}

/**
 * The catalogue feature (issue 3): listings, photos, search, wants, wishlists, reports.
 * Registered by buildApp after accounts; decorates `app.catalogue`.
 */
export const catalogueFeature = fp(
  async (app: FastifyInstance) => {
    const blobs = createBlobStore(app.config)
    const deps = { spine: app.spine, blobs }
    const catalogue: Catalogue = {
      blobs,
      listings: createListingsService(deps),
      images: createListingImagesService(deps),
      search: createSearchService(deps),
      wants: createWantsService(deps),
      wishlists: createWishlistsService(deps),
    }
    app.decorate('catalogue', catalogue)
    app.sweeper.register(blobDeletionJob(blobs))

    const rateLimitScale = app.config.RATE_LIMIT_SCALE
    await app.register(listingsRoutes, { listings: catalogue.listings, search: catalogue.search, rateLimitScale })
    await app.register(listingImagesRoutes, { images: catalogue.images, rateLimitScale })
    await app.register(wantsRoutes, { wants: catalogue.wants, rateLimitScale })
    await app.register(wishlistsRoutes, { wishlists: catalogue.wishlists })

    if (blobs instanceof LocalBlobStore) {
      mkdirSync(blobs.root, { recursive: true })
      await app.register(fastifyStatic, {
        root: path.resolve(blobs.root),
        prefix: '/uploads/',
        decorateReply: false,
        index: false,
        dotfiles: 'deny',
        // Photos are immutable (new pathname per upload) and embedded by other origins' pages.
        immutable: true,
        maxAge: '365d',
        setHeaders: (reply) => {
          reply.header('cross-origin-resource-policy', 'cross-origin')
        },
      })
    }
  },
  { name: 'oja-catalogue', dependencies: ['oja-auth'] },
)
