import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { actorCtx, ctxOf } from '../http/index.js'
import { IdParams, Page, problems } from '../shared/index.js'
import { Coupon, CreateCouponBody, ListCouponsQuery, UpdateCouponBody } from './coupons.schemas.js'
import { couponsAdmin } from './coupons.service.js'

const tags = ['admin']

export const couponsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/admin/coupons',
    {
      schema: {
        operationId: 'listCoupons',
        tags,
        summary: 'Coupons, newest first',
        querystring: ListCouponsQuery,
        response: { 200: Page(Coupon), ...problems(401, 403) },
      },
      config: { auth: 'admin' },
    },
    async (req) => couponsAdmin.list(ctxOf(req), req.query),
  )

  app.get(
    '/v1/admin/coupons/:id',
    {
      schema: {
        operationId: 'getCoupon',
        tags,
        summary: 'One coupon with its use count',
        params: IdParams,
        response: { 200: Coupon, ...problems(401, 403, 404) },
      },
      config: { auth: 'admin' },
    },
    async (req) => couponsAdmin.get(ctxOf(req), req.params.id),
  )

  app.post(
    '/v1/admin/coupons',
    {
      schema: {
        operationId: 'createCoupon',
        tags,
        summary:
          'Create a coupon (percent or flat; minimum order, maximum discount, expiry, total and per-user limits)',
        body: CreateCouponBody,
        headers: IdempotencyHeaders,
        response: { 201: Coupon, ...problems(401, 403, 409) },
      },
      config: { auth: 'admin', idempotency: 'optional' },
    },
    async (req, reply) => {
      const coupon = await couponsAdmin.create(actorCtx(req), req.body)
      return reply.code(201).header('location', `/v1/admin/coupons/${coupon.id}`).send(coupon)
    },
  )

  app.patch(
    '/v1/admin/coupons/:id',
    {
      schema: {
        operationId: 'updateCoupon',
        tags,
        summary: 'Edit a coupon (the code stays)',
        params: IdParams,
        body: UpdateCouponBody,
        response: { 200: Coupon, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'admin' },
    },
    async (req) => couponsAdmin.update(actorCtx(req), req.params.id, req.body),
  )
}
