import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { BlobStore } from '../images/index.js'
import { listingImagesRoutes } from './listing-images.routes.js'
import { createListingImagesService, type ListingImagesService } from './listing-images.service.js'
import { listingsRoutes } from './listings.routes.js'
import { createSearchService, type SearchService } from './listings.search.js'
import { createListingsService, type ListingsService } from './listings.service.js'
import { recountListingWordsJob } from './listing-words.js'
import { createReportsService } from './reports.service.js'

/**
 * The listings services of this app, for other features that act on a listing in their own
 * flow (trust's moderators remove one through `listings.remove`) and for tests.
 */
export type Catalogue = {
  blobs: BlobStore
  listings: ListingsService
  images: ListingImagesService
  search: SearchService
}

declare module 'fastify' {
  interface FastifyInstance {
    catalogue: Catalogue
  }
}

/**
 * The listings feature: listings, their photos, search and reports (routes), decorating
 * `app.catalogue`. Registered after accounts and images (it stores photos in `app.blobs`).
 */
export const listingsFeature = fp(
  async (app: FastifyInstance) => {
    const deps = {
      spine: app.spine,
      blobs: app.blobs,
      reads: app.reads,
    }
    const catalogue: Catalogue = {
      blobs: app.blobs,
      listings: createListingsService(deps),
      images: createListingImagesService(deps),
      search: createSearchService(deps),
    }
    app.decorate('catalogue', catalogue)

    const rateLimitScale = app.config.RATE_LIMIT_SCALE
    await app.register(listingsRoutes, {
      listings: catalogue.listings,
      search: catalogue.search,
      reports: createReportsService({ spine: app.spine }),
      rateLimitScale,
    })
    await app.register(listingImagesRoutes, { images: catalogue.images, rateLimitScale })
    if (app.config.LISTING_WORDS_RECOUNT_HOURS > 0)
      app.sweeper.register(recountListingWordsJob(app.config.LISTING_WORDS_RECOUNT_HOURS))
  },
  { name: 'oja-listings', dependencies: ['oja-auth', 'oja-images'] },
)
