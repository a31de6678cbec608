import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { Type } from '@sinclair/typebox'
import { actorCtx, ctxOf } from '../http/index.js'
import { Id, IdParams, OrNull, problems } from '../shared/index.js'
import type { ReviewsService } from './reviews.service.js'
import {
  AdminReview,
  AdminReviewsQuery,
  CreateReviewBody,
  FlagBody,
  ModerateBody,
  ReplyBody,
  Review,
  ReviewPage,
  ReviewsQuery,
} from './reviews.schemas.js'

const tags = ['reviews']

export const reviewsRoutes: FastifyPluginAsyncTypebox<{ reviews: ReviewsService }> = async (app, { reviews }) => {
  app.post(
    '/v1/shipments/:id/reviews',
    {
      schema: {
        operationId: 'createReview',
        tags,
        summary: 'The buyer reviews the seller of a received shipment, once',
        params: IdParams,
        body: CreateReviewBody,
        headers: IdempotencyHeaders,
        response: { 201: Review, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required', idempotency: 'optional' },
    },
    // A review has no GET of its own: Location names the seller's reviews, where it shows.
    async (req, reply) => {
      const review = await reviews.create(actorCtx(req), req.params.id, req.body)
      return reply.code(201).header('location', `/v1/users/${review.sellerId}/reviews`).send(review)
    },
  )

  app.get(
    '/v1/users/:id/reviews',
    {
      schema: {
        operationId: 'listUserReviews',
        tags,
        summary: "A seller's visible reviews, with the rating summary",
        params: IdParams,
        querystring: ReviewsQuery,
        response: { 200: ReviewPage, ...problems(404) },
      },
    },
    async (req) => reviews.listForSeller(ctxOf(req), req.params.id, req.query),
  )

  app.get(
    '/v1/listings/:id/reviews',
    {
      schema: {
        operationId: 'listListingReviews',
        tags,
        summary: 'Visible reviews of sales of this listing, with their summary',
        params: IdParams,
        querystring: ReviewsQuery,
        response: { 200: ReviewPage, ...problems(404) },
      },
    },
    async (req) => reviews.listForListing(ctxOf(req), req.params.id, req.query),
  )

  app.post(
    '/v1/reviews/:id/reply',
    {
      schema: {
        operationId: 'replyToReview',
        tags,
        summary: "The seller's public reply, once",
        params: IdParams,
        body: ReplyBody,
        response: { 200: Review, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => reviews.reply(actorCtx(req), req.params.id, req.body.body),
  )

  app.post(
    '/v1/reviews/:id/flags',
    {
      schema: {
        operationId: 'flagReview',
        tags,
        summary: 'Flag a review for moderators',
        params: IdParams,
        body: FlagBody,
        headers: IdempotencyHeaders,
        response: { 201: Type.Object({ reviewId: Id, openFlags: Type.Integer() }), ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required', idempotency: 'optional' },
    },
    // A flag has no URL of its own (moderators see flags in /v1/admin/reviews): Location names the review's flags.
    async (req, reply) =>
      reply
        .code(201)
        .header('location', `/v1/reviews/${req.params.id}/flags`)
        .send(await reviews.flag(actorCtx(req), req.params.id, req.body.reason)),
  )

  app.get(
    '/v1/admin/reviews',
    {
      schema: {
        operationId: 'listReviewsForModeration',
        tags: ['admin'],
        summary: 'Moderation queue (flagged by default)',
        querystring: AdminReviewsQuery,
        response: {
          200: Type.Object({ items: Type.Array(AdminReview), nextCursor: OrNull(Type.String()) }),
          ...problems(401, 403),
        },
      },
      config: { auth: 'admin' },
    },
    async (req) => reviews.adminList(actorCtx(req), req.query),
  )

  app.post(
    '/v1/admin/reviews/:id/moderate',
    {
      schema: {
        operationId: 'moderateReview',
        tags: ['admin'],
        summary: 'Hide, restore or dismiss flags; hidden reviews leave every average at once',
        params: IdParams,
        body: ModerateBody,
        response: { 200: AdminReview, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'admin' },
    },
    async (req) => reviews.moderate(actorCtx(req), req.params.id, req.body),
  )
}
