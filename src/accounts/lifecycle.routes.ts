import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx, routeLimit } from '../http/index.js'
import { IdParams, problems } from '../shared/index.js'
import { LoginLimiter } from './login-limiter.js'
import { createLifecycleService } from './lifecycle.service.js'
import {
  AccountExport,
  ChangeEmailBody,
  ChangePasswordBody,
  DeleteAccountBody,
  SessionList,
} from './lifecycle.schemas.js'

const tags = ['accounts']

/**
 * The account lifecycle routes: password and email changes, sessions, export, erasure.
 * Registered after accountsRoutes; the catalogue (listing removal) is looked up per request,
 * as it is registered later.
 */
export const lifecycleRoutes: FastifyPluginAsyncTypebox<{ rateLimitScale: number }> = async (
  app,
  { rateLimitScale },
) => {
  const lifecycle = createLifecycleService({
    config: app.config,
    spine: app.spine,
    mailQueued: () => app.mail.kick(),
    passwordLimiter: new LoginLimiter({
      scale: rateLimitScale,
      redis: app.redis,
      prefix: `${app.config.REDIS_PREFIX}password-check:`,
    }),
    removeListing: (ctx, listingId) => app.catalogue.listings.remove(ctx, listingId),
  })

  app.post(
    '/v1/me/password',
    {
      schema: {
        operationId: 'changePassword',
        tags,
        summary: 'Change the password; every other session ends',
        body: ChangePasswordBody,
        response: { 204: Type.Null(), ...problems(401, 403, 429) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await lifecycle.changePassword(actorCtx(req), req.body, req.ip)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/me/email',
    {
      schema: {
        operationId: 'changeEmail',
        tags,
        summary: 'Change the email: a link to the new address switches it',
        body: ChangeEmailBody,
        response: { 202: Type.Null(), ...problems(401, 403, 409, 429) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await lifecycle.requestEmailChange(actorCtx(req), req.body, req.ip)
      return reply.code(202).send(null)
    },
  )

  app.get(
    '/v1/me/sessions',
    {
      schema: {
        operationId: 'listSessions',
        tags,
        summary: 'The signed-in devices of the account',
        response: { 200: SessionList, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => lifecycle.listSessions(actorCtx(req)),
  )

  app.delete(
    '/v1/me/sessions/:id',
    {
      schema: {
        operationId: 'deleteSession',
        tags,
        summary: 'End one signed-in session',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await lifecycle.endSession(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/me/export',
    {
      schema: {
        operationId: 'exportAccount',
        tags,
        summary: 'Everything Oja holds about the account, as JSON',
        response: { 200: AccountExport, ...problems(401, 403, 429) },
      },
      config: {
        auth: 'required',
        ...routeLimit(rateLimitScale, 10, '1 hour', (req) => `export:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req) => lifecycle.exportAccount(actorCtx(req)),
  )

  app.delete(
    '/v1/me',
    {
      schema: {
        operationId: 'deleteAccount',
        tags,
        summary: 'Erase the account',
        body: DeleteAccountBody,
        response: { 202: Type.Null(), ...problems(401, 403, 409, 429) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await lifecycle.deleteAccount(actorCtx(req), req.body, req.ip)
      return reply.code(202).send(null)
    },
  )
}
