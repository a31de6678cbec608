import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx, ctxOf } from '../http/index.js'
import { routeLimit } from '../http/index.js'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { IdParams, Page, problems } from '../shared/index.js'
import type { ListingsService } from './listings.service.js'
import type { SearchService } from './listings.search.js'
import type { ReportsService } from './reports.service.js'
import {
  CreateListingBody,
  Listing,
  ListingCard,
  ListingReport,
  MyListingsQuery,
  ReportBody,
  SearchPage,
  SearchQuery,
  UpdateListingBody,
} from './listings.schemas.js'

const tags = ['catalogue']
const byUser = (prefix: string) => (req: { actor?: { id: string }; ip: string }) =>
  `${prefix}:${req.actor?.id ?? req.ip}`

export const listingsRoutes: FastifyPluginAsyncTypebox<{
  listings: ListingsService
  search: SearchService
  reports: ReportsService
  rateLimitScale: number
}> = async (app, { listings, search, reports, rateLimitScale }) => {
  app.post(
    '/v1/listings',
    {
      schema: {
        operationId: 'createListing',
        tags,
        summary: 'Create a listing (published unless `draft`)',
        body: CreateListingBody,
        headers: IdempotencyHeaders,
        response: { 201: Listing, ...problems(401, 403, 409, 429) },
      },
      config: {
        auth: 'required',
        idempotency: 'optional',
        ...routeLimit(rateLimitScale, 100, '1 hour', byUser('listing-create')),
      },
    },
    async (req, reply) => {
      const listing = await listings.create(actorCtx(req), req.body)
      return reply.code(201).header('location', `/v1/listings/${listing.id}`).send(listing)
    },
  )

  app.get(
    '/v1/listings',
    {
      schema: {
        operationId: 'searchListings',
        tags,
        summary: 'Search and browse active listings',
        description:
          'Full text (`q`, web-search syntax, English stemming; typo-tolerant when exact matching finds little), filters, sorts, keyset cursor paging.',
        querystring: SearchQuery,
        response: { 200: SearchPage, ...problems(401, 403) },
      },
      config: { auth: 'optional' },
    },
    async (req) => search.search(ctxOf(req), req.query),
  )

  app.get(
    '/v1/listings/:id',
    {
      schema: {
        operationId: 'getListing',
        tags,
        summary: 'One listing with photos, seller and available quantity',
        params: IdParams,
        response: { 200: Listing, ...problems(401, 403, 404) },
      },
      config: { auth: 'optional' },
    },
    async (req) => listings.get(ctxOf(req), req.params.id),
  )

  app.patch(
    '/v1/listings/:id',
    {
      schema: {
        operationId: 'updateListing',
        tags,
        summary: "Edit one's listing; a lower price alerts wishlisters",
        params: IdParams,
        body: UpdateListingBody,
        response: { 200: Listing, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => listings.update(actorCtx(req), req.params.id, req.body),
  )

  app.delete(
    '/v1/listings/:id',
    {
      schema: {
        operationId: 'deleteListing',
        tags,
        summary: 'Remove a listing (seller or admin); its photos are deleted',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await listings.remove(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/me/listings',
    {
      schema: {
        operationId: 'listMyListings',
        tags,
        summary: 'My listings in every status, newest first',
        querystring: MyListingsQuery,
        response: { 200: Page(ListingCard), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => listings.mine(actorCtx(req), req.query),
  )

  app.post(
    '/v1/listings/:id/reports',
    {
      schema: {
        operationId: 'reportListing',
        tags,
        summary: 'Flag a listing for the moderators',
        params: IdParams,
        body: ReportBody,
        headers: IdempotencyHeaders,
        response: { 201: ListingReport, ...problems(401, 403, 404, 409, 429) },
      },
      config: {
        auth: 'required',
        idempotency: 'optional',
        ...routeLimit(rateLimitScale, 20, '1 hour', byUser('report')),
      },
    },
    // A report has no GET of its own for the reporter: Location names the listing reported.
    async (req, reply) =>
      reply
        .code(201)
        .header('location', `/v1/listings/${req.params.id}`)
        .send(await reports.create(actorCtx(req), req.params.id, req.body)),
  )
}
