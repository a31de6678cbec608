import type { FastifyPluginAsync } from 'fastify'
import { createAdminService } from './admin.service.js'
import { adminRoutes } from './admin.routes.js'
import { createReviewsService } from './reviews.service.js'
import { reviewsRoutes } from './reviews.routes.js'
import { createModerationService } from './moderation.service.js'
import { moderationRoutes } from './moderation.routes.js'

/** The trust feature (issue 6): moderation, admin tools, audit log, reviews, stats. */
export const trustFeature: FastifyPluginAsync = async (app) => {
  const admin = createAdminService({ spine: app.spine })
  await app.register(adminRoutes, { admin })
  await app.register(reviewsRoutes, { reviews: createReviewsService({ spine: app.spine }) })
  const moderation = createModerationService({
    spine: app.spine,
    removeListing: (ctx, id, opts) => app.catalogue.listings.remove(ctx, id, opts),
  })
  await app.register(moderationRoutes, { moderation })
}

export { sellerRating } from './reviews.service.js'
