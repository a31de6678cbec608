import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { problems } from '../shared/index.js'
import { WishlistPage, WishlistParams, WishlistQuery } from './wishlists.schemas.js'
import type { WishlistsService } from './wishlists.service.js'

const tags = ['wishlist']

export const wishlistsRoutes: FastifyPluginAsyncTypebox<{ wishlists: WishlistsService }> = async (
  app,
  { wishlists },
) => {
  app.get(
    '/v1/me/wishlist',
    {
      schema: {
        operationId: 'listWishlist',
        tags,
        summary: 'My favourites, most recently added first',
        querystring: WishlistQuery,
        response: { 200: WishlistPage, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => wishlists.list(actorCtx(req), req.query),
  )

  app.put(
    '/v1/me/wishlist/:listingId',
    {
      schema: {
        operationId: 'addToWishlist',
        tags,
        summary: 'Add a listing to my favourites (idempotent)',
        params: WishlistParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await wishlists.add(actorCtx(req), req.params.listingId)
      return reply.code(204).send(null)
    },
  )

  app.delete(
    '/v1/me/wishlist/:listingId',
    {
      schema: {
        operationId: 'removeFromWishlist',
        tags,
        summary: 'Remove a listing from my favourites (idempotent)',
        params: WishlistParams,
        response: { 204: Type.Null(), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await wishlists.remove(actorCtx(req), req.params.listingId)
      return reply.code(204).send(null)
    },
  )
}
