import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { EmptyBody, IdParams, OrNull, Page, problems } from '../shared/index.js'
import {
  ConversationsQuery,
  CounterOfferBody,
  MakeOfferBody,
  MarkReadBody,
  MessagesQuery,
  OpenConversationBody,
  ReadReceipt,
  SendMessageBody,
} from './chat.schemas.js'
import type { ChatService } from './chat.service.js'
import type { OffersService } from './offers.service.js'

const ConversationRef = Type.Ref('Conversation')
const MessageRef = Type.Ref('Message')
const OfferRef = Type.Ref('Offer')

export const chatRoutes: FastifyPluginAsyncTypebox<{ chat: ChatService; offers: OffersService }> = async (
  app,
  { chat, offers },
) => {
  const tags = ['chat']
  const auth = { auth: 'required' as const }
  const creating = { auth: 'required' as const, idempotency: 'optional' as const }

  app.post(
    '/v1/conversations',
    {
      schema: {
        operationId: 'openConversation',
        tags,
        summary: 'Open (or return the existing) conversation about a listing or a want',
        description:
          '201 when it was created, 200 when it already existed. With `message`, the first message is sent too.',
        body: OpenConversationBody,
        headers: IdempotencyHeaders,
        response: { 200: ConversationRef, 201: ConversationRef, ...problems(401, 403, 404, 409, 429) },
      },
      config: creating,
    },
    async (req, reply) => {
      const { created, conversation } = await chat.open(actorCtx(req), req.body)
      return reply
        .code(created ? 201 : 200)
        .header('location', `/v1/conversations/${conversation.id}`)
        .send(conversation)
    },
  )

  app.get(
    '/v1/conversations',
    {
      schema: {
        operationId: 'listConversations',
        tags,
        summary: 'My conversations, newest activity first',
        querystring: ConversationsQuery,
        response: { 200: Page(ConversationRef), ...problems(401, 403) },
      },
      config: auth,
    },
    async (req) => chat.list(actorCtx(req), req.query),
  )

  app.get(
    '/v1/conversations/:id',
    {
      schema: {
        operationId: 'getConversation',
        tags,
        summary: 'One of my conversations',
        params: IdParams,
        response: { 200: ConversationRef, ...problems(401, 403, 404) },
      },
      config: auth,
    },
    async (req) => chat.get(actorCtx(req), req.params.id),
  )

  app.get(
    '/v1/conversations/:id/messages',
    {
      schema: {
        operationId: 'listMessages',
        tags,
        summary: 'History, newest first',
        description: '`nextCursor` is the id to pass as `before` for the next (older) page.',
        params: IdParams,
        querystring: MessagesQuery,
        response: {
          200: Type.Object({ items: Type.Array(MessageRef), nextCursor: OrNull(Type.String()) }),
          ...problems(401, 403, 404),
        },
      },
      config: auth,
    },
    async (req) => chat.messages(actorCtx(req), req.params.id, req.query),
  )

  app.post(
    '/v1/conversations/:id/messages',
    {
      schema: {
        operationId: 'sendMessage',
        tags,
        summary: 'Send a message (REST fallback of the socket event `message:send`)',
        description:
          '201 with the new message; a resend with the same `clientId` stores nothing and answers 200 with the original.',
        params: IdParams,
        body: SendMessageBody,
        headers: IdempotencyHeaders,
        response: { 200: MessageRef, 201: MessageRef, ...problems(401, 403, 404, 409, 429) },
      },
      config: creating,
    },
    async (req, reply) => {
      const { created, message } = await chat.send(actorCtx(req), req.params.id, req.body)
      // A message has no GET of its own: Location names the conversation's messages.
      return reply
        .code(created ? 201 : 200)
        .header('location', `/v1/conversations/${req.params.id}/messages`)
        .send(message)
    },
  )

  app.post(
    '/v1/conversations/:id/read',
    {
      schema: {
        operationId: 'markConversationRead',
        tags,
        summary: 'Read receipt: I have read up to this message',
        description: 'The pointer only moves forward; both participants get `message:read` when it moves.',
        params: IdParams,
        body: MarkReadBody,
        response: {
          200: Type.Composite([ReadReceipt, Type.Object({ unreadCount: Type.Integer({ minimum: 0 }) })]),
          ...problems(401, 403, 404, 429),
        },
      },
      config: auth,
    },
    async (req) => chat.markRead(actorCtx(req), req.params.id, req.body.upToMessageId),
  )

  for (const [method, muted, operationId, summary] of [
    ['PUT', true, 'muteConversation', 'Mute a conversation: no push for it (idempotent)'],
    ['DELETE', false, 'unmuteConversation', 'Unmute a conversation (idempotent)'],
  ] as const) {
    app.route({
      method,
      url: '/v1/conversations/:id/mute',
      schema: {
        operationId,
        tags,
        summary,
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: auth,
      handler: async (req, reply) => {
        await chat.setMuted(actorCtx(req), req.params.id, muted)
        return reply.code(204).send(null)
      },
    })
  }

  const offerTags = ['offers']
  app.post(
    '/v1/conversations/:id/offers',
    {
      schema: {
        operationId: 'makeOffer',
        tags: offerTags,
        summary: 'The buyer offers a price',
        description: "For the conversation's listing unless `listingId` names another listing of the same seller.",
        params: IdParams,
        body: MakeOfferBody,
        headers: IdempotencyHeaders,
        response: { 201: OfferRef, ...problems(401, 403, 404, 409, 429) },
      },
      config: creating,
    },
    async (req, reply) => {
      const offer = await offers.make(actorCtx(req), req.params.id, req.body)
      return reply.code(201).header('location', `/v1/offers/${offer.id}`).send(offer)
    },
  )

  app.get(
    '/v1/offers/:id',
    {
      schema: {
        operationId: 'getOffer',
        tags: offerTags,
        summary: 'An offer I am party to',
        params: IdParams,
        response: { 200: OfferRef, ...problems(401, 403, 404) },
      },
      config: auth,
    },
    async (req) => offers.get(actorCtx(req), req.params.id),
  )

  const answers = [
    ['accept', 'acceptOffer', 'Accept a pending offer: its price holds for the buyer for 48 hours', offers.accept],
    ['decline', 'declineOffer', 'Decline a pending offer', offers.decline],
    ['withdraw', 'withdrawOffer', 'Withdraw a pending offer you made', offers.withdraw],
  ] as const
  for (const [action, operationId, summary, run] of answers) {
    app.post(
      `/v1/offers/:id/${action}`,
      {
        schema: {
          operationId,
          tags: offerTags,
          summary,
          params: IdParams,
          body: EmptyBody,
          response: { 200: OfferRef, ...problems(401, 403, 404, 409) },
        },
        config: auth,
      },
      async (req) => run(actorCtx(req), req.params.id),
    )
  }

  app.post(
    '/v1/offers/:id/counter',
    {
      schema: {
        operationId: 'counterOffer',
        tags: offerTags,
        summary: 'Counter a pending offer with another amount',
        description: 'The answered offer becomes `countered`; the answer is the new pending offer from your side.',
        params: IdParams,
        body: CounterOfferBody,
        headers: IdempotencyHeaders,
        response: { 201: OfferRef, ...problems(401, 403, 404, 409, 429) },
      },
      config: creating,
    },
    async (req, reply) => {
      const offer = await offers.counter(actorCtx(req), req.params.id, req.body.amount, req.body.quantity)
      return reply.code(201).header('location', `/v1/offers/${offer.id}`).send(offer)
    },
  )
}
