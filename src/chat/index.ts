/** The public surface of src/chat: other folders import from here, never from its files. */
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { chatImagesRoutes } from './chat-images.routes.js'
import { createChatImagesService } from './chat-images.service.js'
import { chatRoutes } from './chat.routes.js'
import { Conversation, Message, Offer } from './chat.schemas.js'
import { createChatService, type ChatService } from './chat.service.js'
import { createOffersService, type OffersService } from './offers.service.js'
import { nobodyOnline, type Presence } from './presence.js'
import { SendLimiter } from './send-limiter.js'

/** The chat's services, as the realtime layer builds its socket handlers from them. */
export type { ChatService, ActorCtx } from './chat.service.js'
/** Who is online: the realtime layer provides it to the chat feature. */
export type { Presence } from './presence.js'
/** The socket payloads and what they answer (realtime/protocol.ts types the wire with them). */
export {
  ConversationReadPayload,
  Message,
  MessageSendPayload,
  Offer,
  ReadReceipt,
  TypingPayload,
  TypingEvent,
} from './chat.schemas.js'
/** Unread messages and muted conversations as SQL (push's badge and filters, the unread counts). */
export { conversationMutedSql, unreadChatSql, unreadMessageSql } from './chat.service.js'
/** A want's answer, in the caller's transaction: the listing's conversation (now about the want) and its message. */
export { insertMessage, openListingConversation } from './chat.service.js'

/** What the chat feature offers the rest of the node (the realtime layer builds its socket handlers from it). */
export type ChatModule = {
  service: ChatService
  offers: OffersService
  /** Takes one send from a user's chat allowance or throws 429 (other features' messages: want answers). */
  countSend: (userId: string) => Promise<void>
  /** Who has a live connection on any node (the unread digest mails only those away). */
  presence: Presence
}

declare module 'fastify' {
  interface FastifyInstance {
    chat: ChatModule
  }
}

/** The chat feature's options: who is online (default: nobody, so a `message` notification is always created). */
export type ChatFeatureOptions = { presence?: Presence }

/** The chat feature (issue 5): conversations, messages, read receipts and offers over REST; sockets live in realtime/. */
export const chatFeature = fp<ChatFeatureOptions>(
  async (app: FastifyInstance, opts) => {
    const presence = opts.presence ?? nobodyOnline
    const sendLimiter = new SendLimiter({
      scale: app.config.RATE_LIMIT_SCALE,
      redis: app.redis,
      prefix: app.config.REDIS_PREFIX,
    })
    const readLimiter = new SendLimiter({
      scale: app.config.RATE_LIMIT_SCALE,
      redis: app.redis,
      prefix: app.config.REDIS_PREFIX,
      name: 'chat-read',
      points: app.config.CHAT_READ_LIMIT,
    })
    const service = createChatService({
      spine: app.spine,
      presence,
      sendLimiter,
      readLimiter,
      sendBatch: {
        maxBatch: 100,
        maxInFlight: 1,
        maxWaiting: app.config.CHAT_SEND_QUEUE,
        maxWaitMs: app.config.CHAT_SEND_MAX_WAIT_MS,
      },
    })
    const offers = createOffersService({ spine: app.spine, sendLimiter })
    app.decorate('chat', {
      service,
      offers,
      countSend: (userId) => sendLimiter.consume(userId),
      presence,
    } satisfies ChatModule)

    app.addSchema(Offer)
    app.addSchema(Message)
    app.addSchema(Conversation)
    await app.register(chatRoutes, { chat: service, offers })
    await app.register(chatImagesRoutes, {
      images: createChatImagesService({ chat: service, blobs: app.blobs, publicUrl: app.config.publicUrl }),
    })

    app.sweeper.register({ name: 'expire-accepted-offers', run: (trx) => offers.expireDue(trx, app.log) })
  },
  { name: 'oja-chat', dependencies: ['oja-images'] },
)
