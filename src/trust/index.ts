import type { FastifyPluginAsync } from 'fastify'
import type { Actor, Ctx } from '../shared/index.js'
import { createAdminService } from './admin.service.js'
import { adminRoutes } from './admin.routes.js'
import { createReviewsService } from './reviews.service.js'
import { reviewsRoutes } from './reviews.routes.js'
import { createModerationService } from './moderation.service.js'
import { moderationRoutes } from './moderation.routes.js'
import { adminUserDetailRoutes } from './admin-user-detail.js'

/** What trust needs from other features, passed in explicitly (app.ts wires it). */
export type TrustFeatureOptions = {
  /** The catalogue's removal of a listing (status `removed`, photos deleted, seller told, audited), in the caller's transaction. */
  removeListing: (ctx: Ctx & { actor: Actor }, id: string, opts: { reason: string }) => Promise<void>
}

/** The trust feature (issue 6): moderation, admin tools, audit log, reviews, stats. */
export const trustFeature: FastifyPluginAsync<TrustFeatureOptions> = async (app, opts) => {
  const admin = createAdminService({ spine: app.spine })
  await app.register(adminRoutes, { admin })
  await app.register(adminUserDetailRoutes)
  await app.register(reviewsRoutes, { reviews: createReviewsService({ spine: app.spine }) })
  const moderation = createModerationService({
    spine: app.spine,
    removeListing: opts.removeListing,
  })
  await app.register(moderationRoutes, { moderation })
}

/** A seller's rating (average and count of visible reviews), for profiles. */
export { sellerRating } from './reviews.service.js'
