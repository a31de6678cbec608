import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { chatRoutes } from './chat.routes.js'
import { Conversation, Message, Offer } from './chat.schemas.js'
import { createChatService, type ChatService } from './chat.service.js'
import { createOffersService, type OffersService } from './offers.service.js'
import { nobodyOnline, type Presence } from './presence.js'
import { SendLimiter } from './send-limiter.js'

export type { ChatService } from './chat.service.js'
export type { OffersService } from './offers.service.js'
export type { Presence } from './presence.js'
export * from './chat.schemas.js'
export { ChatErrors } from './chat.errors.js'

/** What the chat feature offers the rest of the node (the realtime layer builds its socket handlers from it). */
export type ChatModule = {
  service: ChatService
  offers: OffersService
  /** Plugs in who is online (the realtime layer does, once attached). */
  setPresence(presence: Presence): void
}

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatModule
  }
}

/** The chat feature (issue 5): conversations, messages, read receipts and offers over REST; sockets live in realtime/. */
export const chatFeature = fp(
  async (app: FastifyInstance) => {
    let presence: Presence = nobodyOnline
    const sendLimiter = new SendLimiter({
      scale: app.config.RATE_LIMIT_SCALE,
      redis: app.redis,
      prefix: app.config.REDIS_PREFIX,
    })
    const service = createChatService({ spine: app.spine, presence: () => presence, sendLimiter })
    const offers = createOffersService({ spine: app.spine })
    app.decorate('chat', { service, offers, setPresence: (p: Presence) => void (presence = p) } satisfies ChatModule)

    app.addSchema(Offer)
    app.addSchema(Message)
    app.addSchema(Conversation)
    await app.register(chatRoutes, { chat: service, offers })

    app.sweeper.register({ name: 'expire-accepted-offers', run: (trx) => offers.expireDue(trx, app.log) })
  },
  { name: 'oja-chat' },
)

export { insertMessage } from './chat.service.js'
export type { ActorCtx } from './chat.service.js'
