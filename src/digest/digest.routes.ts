import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { StrictObject, problems } from '../shared/index.js'
import { DigestErrors } from './digest.errors.js'
import { setDigestOff } from './digest.settings.js'
import { UNSUBSCRIBE_TOKEN_PATTERN, verifyUnsubscribeToken } from './unsubscribe-token.js'

const page = (message: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>Oja</title>` +
  `<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto">` +
  `<h1>Oja</h1><p>${message}</p></body></html>`

/** A client that asks for JSON and not for HTML (a browser asks for HTML). */
const wantsJson = (accept = '') => /application\/json/i.test(accept) && !/text\/html/i.test(accept)

export const digestRoutes: FastifyPluginAsyncTypebox<{ secret: string }> = async (app, { secret }) => {
  app.get(
    '/v1/digest/unsubscribe',
    {
      schema: {
        operationId: 'unsubscribeDigest',
        tags: ['notifications'],
        summary: 'Turn the unread-messages digest off (the link at the foot of each digest mail)',
        description:
          'The token in the link is signed for one user and does only this; it does not expire. Answers a small ' +
          'HTML page to a browser, `{unreadDigest:false}` to a client that asks for JSON. Opening it twice is fine.',
        querystring: StrictObject({ token: Type.String({ pattern: UNSUBSCRIBE_TOKEN_PATTERN }) }),
        response: {
          200: {
            description: 'The digest is off',
            content: {
              'text/html': { schema: Type.String() },
              'application/json': { schema: Type.Object({ unreadDigest: Type.Literal(false) }) },
            },
          },
          ...problems(),
        },
      },
    },
    async (req, reply) => {
      const userId = verifyUnsubscribeToken(secret, req.query.token)
      if (!userId) throw DigestErrors.linkInvalid()
      await setDigestOff(app.db, userId, true)
      if (wantsJson(req.headers.accept)) return reply.type('application/json').send({ unreadDigest: false as const })
      return reply
        .type('text/html; charset=utf-8')
        .send(
          page(
            'You will get no more mails about unread messages. You can turn them back on in the app’s notification settings.',
          ),
        )
    },
  )
}
