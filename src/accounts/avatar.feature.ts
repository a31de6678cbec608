import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { avatarRoutes } from './avatar.routes.js'
import { createAvatarService } from './avatar.service.js'

/**
 * Uploaded profile pictures (PUT /v1/me/avatar). Registered after the images feature, whose
 * blob store keeps the files, and after the accounts routes (the answer is their profile).
 */
export const avatarFeature = fp(
  async (app: FastifyInstance) => {
    const avatars = createAvatarService({ spine: app.spine, blobs: app.blobs, accounts: app.services.accounts })
    await app.register(avatarRoutes, { avatars, rateLimitScale: app.config.RATE_LIMIT_SCALE })
  },
  { name: 'oja-avatars', dependencies: ['oja-auth', 'oja-images'] },
)
