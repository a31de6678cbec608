import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { Type } from '@sinclair/typebox'
import { actorCtx, ctxOf } from '../http/index.js'
import { routeLimit } from '../http/index.js'
import { IdParams, Page, problems } from '../shared/index.js'
import {
  CreateWantBody,
  ListWantsQuery,
  UpdateWantBody,
  Want,
  WantResponseBody,
  WantResponseResult,
} from './wants.schemas.js'
import type { WantsService } from './wants.service.js'

const tags = ['wants']

export const wantsRoutes: FastifyPluginAsyncTypebox<{ wants: WantsService; rateLimitScale: number }> = async (
  app,
  { wants, rateLimitScale },
) => {
  app.post(
    '/v1/wants',
    {
      schema: {
        operationId: 'createWant',
        tags,
        summary: 'Post an item request',
        body: CreateWantBody,
        headers: IdempotencyHeaders,
        response: { 201: Want, ...problems(401, 403, 409, 429) },
      },
      config: {
        auth: 'required',
        idempotency: 'optional',
        ...routeLimit(rateLimitScale, 50, '1 hour', (req) => `want-create:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const want = await wants.create(actorCtx(req), req.body)
      return reply.code(201).header('location', `/v1/wants/${want.id}`).send(want)
    },
  )

  app.get(
    '/v1/wants',
    {
      schema: {
        operationId: 'listWants',
        tags,
        summary: "Everyone's open wants, or mine with mine=true; newest first",
        querystring: ListWantsQuery,
        response: { 200: Page(Want), ...problems(401, 403) },
      },
      config: { auth: 'optional' },
    },
    async (req) => wants.list(ctxOf(req), req.query),
  )

  app.get(
    '/v1/wants/:id',
    {
      schema: {
        operationId: 'getWant',
        tags,
        summary: 'One want',
        params: IdParams,
        response: { 200: Want, ...problems(401, 404) },
      },
      // Signed in, the author and admins still see a want of a banned author.
      config: { auth: 'optional' },
    },
    async (req) => wants.get(ctxOf(req), req.params.id),
  )

  app.patch(
    '/v1/wants/:id',
    {
      schema: {
        operationId: 'updateWant',
        tags,
        summary: 'Edit, close or reopen my want',
        params: IdParams,
        body: UpdateWantBody,
        response: { 200: Want, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => wants.update(actorCtx(req), req.params.id, req.body),
  )

  app.delete(
    '/v1/wants/:id',
    {
      schema: {
        operationId: 'deleteWant',
        tags,
        summary: 'Delete a want (author or admin)',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await wants.remove(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/wants/:id/responses',
    {
      schema: {
        operationId: 'respondToWant',
        tags,
        summary: 'Answer a want with one of my listings: opens (or reuses) the conversation and notifies the author',
        params: IdParams,
        body: WantResponseBody,
        headers: IdempotencyHeaders,
        response: { 200: WantResponseResult, 201: WantResponseResult, ...problems(401, 403, 404, 409, 429) },
      },
      config: {
        auth: 'required',
        idempotency: 'optional',
        ...routeLimit(rateLimitScale, 20, '10 seconds', (req) => `want-response:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const result = await wants.respond(actorCtx(req), req.params.id, req.body)
      // The response lives in the conversation it opened (or reused).
      return reply
        .code(result.created ? 201 : 200)
        .header('location', `/v1/conversations/${result.conversationId}`)
        .send(result)
    },
  )
}
