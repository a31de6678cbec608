import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { CouponCodeBody } from '../coupons/index.js'
import { problems } from '../shared/index.js'
import { Cart, ListingParams, PutCartItemBody } from './cart.schemas.js'
import { cartService as cart } from './cart.service.js'

const tags = ['cart']

export const cartRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/cart',
    {
      schema: {
        operationId: 'getCart',
        tags,
        summary: 'My cart: current prices, price changes since adding, availability, coupon preview',
        response: { 200: Cart, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => cart.get(actorCtx(req)),
  )

  app.put(
    '/v1/cart/items/:listingId',
    {
      schema: {
        operationId: 'putCartItem',
        tags,
        summary: 'Put a listing in the cart with a quantity (own listings and unavailable quantities are refused)',
        params: ListingParams,
        body: PutCartItemBody,
        response: { 200: Cart, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => cart.putItem(actorCtx(req), req.params.listingId, req.body.quantity),
  )

  app.delete(
    '/v1/cart/items/:listingId',
    {
      schema: {
        operationId: 'removeCartItem',
        tags,
        summary: 'Remove a line',
        params: ListingParams,
        response: { 200: Cart, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => cart.removeItem(actorCtx(req), req.params.listingId),
  )

  app.delete(
    '/v1/cart',
    {
      schema: {
        operationId: 'clearCart',
        tags,
        summary: 'Empty the cart',
        response: { 204: Type.Null(), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await cart.clear(actorCtx(req))
      return reply.code(204).send(null)
    },
  )

  app.put(
    '/v1/cart/coupon',
    {
      schema: {
        operationId: 'applyCartCoupon',
        tags,
        summary: 'Preview a coupon on the cart (the discount is locked at checkout)',
        body: CouponCodeBody,
        response: { 200: Cart, ...problems(401, 403, 404, 409, 429) },
      },
      config: { auth: 'required' },
    },
    async (req) => {
      const ctx = actorCtx(req)
      return req.server.coupons.guard.lookup({ userId: ctx.actor.id, ip: req.ip }, () =>
        cart.setCoupon(ctx, req.body.code),
      )
    },
  )

  app.delete(
    '/v1/cart/coupon',
    {
      schema: {
        operationId: 'removeCartCoupon',
        tags,
        summary: 'Remove the coupon from the cart',
        response: { 200: Cart, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => cart.removeCoupon(actorCtx(req)),
  )
}
