import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { PriceDropWorker, purgePriceDropFanoutsJob } from './price-drops.js'
import { wishlistsRoutes } from './wishlists.routes.js'
import { createWishlistsService } from './wishlists.service.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The price-drop fan-out worker of this node (app.ts starts it with the other background loops). */
    priceDrops: PriceDropWorker
  }
}

/**
 * The wishlists feature: a user's favourite listings (routes), and the price-drop alerts to
 * them: listings records each drop with `queuePriceDrop` in its PATCH's transaction and this
 * feature's worker fans it out (tables price_drop_fanouts and price_drop_alerts).
 */
export const wishlistsFeature = fp(
  async (app: FastifyInstance) => {
    const worker = new PriceDropWorker({
      db: app.db,
      spine: app.spine,
      log: app.log.child({ module: 'price-drops' }),
      batch: app.config.PRICE_DROP_BATCH,
      pollMs: app.config.PRICE_DROP_POLL_INTERVAL_MS,
      alertHours: app.config.PRICE_DROP_ALERT_HOURS,
    })
    app.decorate('priceDrops', worker)
    app.sweeper.register(purgePriceDropFanoutsJob)
    await app.register(wishlistsRoutes, { wishlists: createWishlistsService({ blobs: app.blobs }) })
  },
  { name: 'oja-wishlists', dependencies: ['oja-auth', 'oja-images'] },
)
