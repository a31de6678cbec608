import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { wantsRoutes } from './wants.routes.js'
import { createWantsService } from './wants.service.js'

/** The wants feature: item requests and the answers sellers give them (routes). */
export const wantsFeature = fp(
  async (app: FastifyInstance) => {
    // The chat feature is registered later; its send limit is looked up at each answer.
    const wants = createWantsService({ spine: app.spine, countSend: (userId) => app.chat.countSend(userId) })
    await app.register(wantsRoutes, { wants, rateLimitScale: app.config.RATE_LIMIT_SCALE })
  },
  { name: 'oja-wants', dependencies: ['oja-auth'] },
)
