import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { unreadDigestJob } from './digest.job.js'
import { digestRoutes } from './digest.routes.js'
import { unsubscribeToken } from './unsubscribe-token.js'

/**
 * The unread-messages digest: a sweeper job mails users away from the app the chat messages
 * they have left unread for UNREAD_DIGEST_MINUTES, one mail per burst, with links into the
 * app (APP_LINK_BASE) and an unsubscribe link to this server. Registered after chat, whose
 * presence tells who is away.
 */
export const digestFeature = fp(
  async (app: FastifyInstance) => {
    const secret = app.config.jwtSecret
    app.sweeper.register(
      unreadDigestJob({
        presence: app.chat.presence,
        minutes: app.config.UNREAD_DIGEST_MINUTES,
        appLinkBase: app.config.appLinkBase,
        unsubscribeUrl: (userId) =>
          `${app.config.publicUrl}/v1/digest/unsubscribe?token=${unsubscribeToken(secret, userId)}`,
        mailQueued: () => app.mail.kick(),
        log: app.log.child({ job: 'unread-digest' }),
      }),
    )
    await app.register(digestRoutes, { secret })
  },
  { name: 'oja-digest', dependencies: ['oja-chat'] },
)
