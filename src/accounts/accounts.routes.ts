import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx, clientKey, consumeOrRefuse, createLimiter, ctxOf, routeLimit } from '../http/index.js'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { EmptyBody, IdParams, problems } from '../shared/index.js'
import type { AccountsService } from './accounts.service.js'
import { linkPages } from './link-pages.js'
import {
  Address,
  AddressInput,
  AddressPatch,
  AuthResult,
  ForgotPasswordBody,
  LoginBody,
  Me,
  PublicProfile,
  RefreshBody,
  RegisterBody,
  ResetPasswordBody,
  TokenBody,
  TokenPair,
  UpdateMeBody,
  UserIdParams,
} from './accounts.schemas.js'

const tags = ['accounts']

export const accountsRoutes: FastifyPluginAsyncTypebox<{ accounts: AccountsService; rateLimitScale: number }> = async (
  app,
  { accounts, rateLimitScale },
) => {
  const meta = (req: { ip: string; headers: Record<string, unknown> }) => ({
    ip: req.ip,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : undefined,
  })

  // The mailed links' pages, when the links point at Oja itself rather than at a web app.
  if (!app.config.APP_LINK_BASE || app.config.appLinkBase === app.config.publicUrl)
    await app.register(linkPages, { accounts, rateLimitScale })

  // Answers of /v1/auth/* carry tokens (or say whether a token worked): no cache may keep them.
  app.addHook('onSend', async (req, reply) => {
    if (req.routeOptions.url?.startsWith('/v1/auth/')) reply.header('cache-control', 'no-store')
  })

  // Forgot-password: 5 per account and IP, 20 per IP, an hour. Keyed by the email alone, anyone
  // could use up a victim's allowance and lock them out of resetting; the IP cap stops one
  // client mailing many accounts.
  const hourly = (name: string, points: number) =>
    rateLimitScale > 0
      ? createLimiter({
          redis: app.redis,
          keyPrefix: `${app.config.REDIS_PREFIX}${name}`,
          points: Math.max(1, Math.round(points * rateLimitScale)),
          durationSeconds: 3600,
        })
      : undefined
  const forgotByAccountAndIp = hourly('forgot-acct:', 5)
  const forgotByIp = hourly('forgot-ip:', 20)

  app.post(
    '/v1/auth/register',
    {
      schema: {
        operationId: 'register',
        tags,
        summary: 'Create an account',
        body: RegisterBody,
        response: { 201: AuthResult, ...problems(409, 429) },
      },
      config: { ...routeLimit(rateLimitScale, 20, '1 hour') },
    },
    async (req, reply) => {
      const result = await accounts.register(ctxOf(req), req.body, meta(req))
      return reply.code(201).header('location', `/v1/users/${result.user.id}`).send(result)
    },
  )

  app.post(
    '/v1/auth/login',
    {
      schema: {
        operationId: 'login',
        tags,
        summary: 'Sign in',
        body: LoginBody,
        response: { 200: AuthResult, ...problems(401, 403, 429) },
      },
    },
    async (req) => accounts.login(ctxOf(req), req.body, meta(req)),
  )

  app.post(
    '/v1/auth/refresh',
    {
      schema: {
        operationId: 'refreshTokens',
        tags,
        summary: 'Rotate a refresh token for a new pair',
        body: RefreshBody,
        response: { 200: TokenPair, ...problems(401, 403) },
      },
    },
    async (req) => accounts.refresh(ctxOf(req), req.body.refreshToken),
  )

  app.post(
    '/v1/auth/logout',
    {
      schema: {
        operationId: 'logout',
        tags,
        summary: 'End the session of a refresh token',
        body: RefreshBody,
        response: { 204: Type.Null(), ...problems(401) },
      },
    },
    async (req, reply) => {
      await accounts.logout(ctxOf(req), req.body.refreshToken)
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/auth/verify-email',
    {
      schema: {
        operationId: 'verifyEmail',
        tags,
        summary: 'Confirm an email address with the mailed token',
        body: TokenBody,
        response: { 200: Me, ...problems() },
      },
    },
    async (req) => accounts.verifyEmail(ctxOf(req), req.body.token),
  )

  app.post(
    '/v1/auth/resend-verification',
    {
      schema: {
        operationId: 'resendVerification',
        tags,
        summary: 'Mail a new verification link',
        body: EmptyBody,
        response: { 202: Type.Null(), ...problems(401, 409, 429) },
      },
      config: {
        auth: 'required',
        ...routeLimit(rateLimitScale, 5, '1 hour', (req) => `resend:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      await accounts.resendVerification(actorCtx(req))
      return reply.code(202).send(null)
    },
  )

  app.post(
    '/v1/auth/forgot-password',
    {
      schema: {
        operationId: 'forgotPassword',
        tags,
        summary: 'Mail a password reset link (always 202)',
        body: ForgotPasswordBody,
        response: { 202: Type.Null(), ...problems(429) },
      },
      preHandler: async (req) => {
        if (!forgotByAccountAndIp || !forgotByIp) return
        const client = clientKey(req.ip)
        await consumeOrRefuse(forgotByIp, client)
        await consumeOrRefuse(forgotByAccountAndIp, `${req.body.email.trim().toLowerCase()}|${client}`)
      },
    },
    async (req, reply) => {
      await accounts.forgotPassword(ctxOf(req), req.body.email)
      return reply.code(202).send(null)
    },
  )

  app.post(
    '/v1/auth/reset-password',
    {
      schema: {
        operationId: 'resetPassword',
        tags,
        summary: 'Set a new password with the mailed token',
        body: ResetPasswordBody,
        response: { 204: Type.Null(), ...problems(429) },
      },
      config: { ...routeLimit(rateLimitScale, 20, '15 minutes') },
    },
    async (req, reply) => {
      await accounts.resetPassword(ctxOf(req), req.body.token, req.body.password)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/me',
    {
      schema: {
        operationId: 'getMe',
        tags,
        summary: 'Own profile',
        response: { 200: Me, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => accounts.getMe(actorCtx(req)),
  )

  app.patch(
    '/v1/me',
    {
      schema: {
        operationId: 'updateMe',
        tags,
        summary: 'Edit own profile',
        body: UpdateMeBody,
        response: { 200: Me, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => accounts.updateMe(actorCtx(req), req.body),
  )

  app.get(
    '/v1/users/:id',
    {
      schema: {
        operationId: 'getUser',
        tags,
        summary: 'Public profile',
        params: IdParams,
        response: { 200: PublicProfile, ...problems(404) },
      },
    },
    async (req) => accounts.publicProfile(ctxOf(req), req.params.id),
  )

  app.get(
    '/v1/me/addresses',
    {
      schema: {
        operationId: 'listAddresses',
        tags,
        summary: 'Shipping addresses',
        response: { 200: Type.Array(Address), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => accounts.listAddresses(actorCtx(req)),
  )

  app.post(
    '/v1/me/addresses',
    {
      schema: {
        operationId: 'createAddress',
        tags,
        summary: 'Add a shipping address',
        body: AddressInput,
        headers: IdempotencyHeaders,
        response: { 201: Address, ...problems(401, 403, 409) },
      },
      config: { auth: 'required', idempotency: 'optional' },
    },
    async (req, reply) => {
      const address = await accounts.createAddress(actorCtx(req), req.body)
      // Its URL is where it is edited and deleted (the list is GET /v1/me/addresses).
      return reply.code(201).header('location', `/v1/me/addresses/${address.id}`).send(address)
    },
  )

  app.patch(
    '/v1/me/addresses/:id',
    {
      schema: {
        operationId: 'updateAddress',
        tags,
        summary: 'Edit a shipping address',
        params: IdParams,
        body: AddressPatch,
        response: { 200: Address, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => accounts.updateAddress(actorCtx(req), req.params.id, req.body),
  )

  app.delete(
    '/v1/me/addresses/:id',
    {
      schema: {
        operationId: 'deleteAddress',
        tags,
        summary: 'Delete a shipping address',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await accounts.deleteAddress(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/me/blocks',
    {
      schema: {
        operationId: 'listBlocks',
        tags,
        summary: 'Users I have blocked',
        response: {
          200: Type.Array(Type.Object({ userId: Type.String(), name: Type.String(), createdAt: Type.String() })),
          ...problems(401, 403),
        },
      },
      config: { auth: 'required' },
    },
    async (req) => accounts.listBlocks(actorCtx(req)),
  )

  app.put(
    '/v1/me/blocks/:userId',
    {
      schema: {
        operationId: 'blockUser',
        tags,
        summary: 'Block a user: no chat or offers either way',
        params: UserIdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await accounts.block(actorCtx(req), req.params.userId)
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/v1/me/blocks/:userId',
    {
      schema: {
        operationId: 'unblockUser',
        tags,
        summary: 'Unblock a user',
        params: UserIdParams,
        response: { 204: Type.Null(), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await accounts.unblock(actorCtx(req), req.params.userId)
      return reply.code(204).send(null)
    },
  )
}
