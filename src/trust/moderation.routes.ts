import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import {
  Id,
  IdParams,
  OrNull,
  Page,
  PageQuery,
  StrictObject,
  StringEnum,
  Timestamp,
  problems,
} from '../shared/index.js'
import type { ModerationService } from './moderation.service.js'
import { marketplaceStats } from './stats.service.js'

const tags = ['admin']
const admin = { auth: 'admin' as const }

const Report = Type.Object({
  id: Id,
  reason: Type.String(),
  detail: OrNull(Type.String()),
  status: Type.String(),
  resolutionNote: OrNull(Type.String()),
  resolvedAt: OrNull(Timestamp),
  createdAt: Timestamp,
  reporter: Type.Object({ id: Id, name: Type.String() }),
  listing: Type.Object({
    id: Id,
    title: Type.String(),
    status: Type.String(),
    sellerId: Id,
    openReports: Type.Integer(),
  }),
})
const Count = Type.Record(Type.String(), Type.Integer())
const Stats = Type.Object({
  from: Timestamp,
  to: Timestamp,
  currency: Type.String(),
  revenueByDay: Type.Array(
    Type.Object({
      day: Type.String(),
      gross: Type.Integer(),
      refunded: Type.Integer(),
      net: Type.Integer(),
      orders: Type.Integer(),
    }),
  ),
  ordersByPaymentStatus: Count,
  shipmentsByStatus: Count,
  topCategories: Type.Array(
    Type.Object({ categoryId: Id, name: Type.String(), revenue: Type.Integer(), units: Type.Integer() }),
  ),
  topSellers: Type.Array(
    Type.Object({ sellerId: Id, name: Type.String(), revenue: Type.Integer(), orders: Type.Integer() }),
  ),
})

export const moderationRoutes: FastifyPluginAsyncTypebox<{ moderation: ModerationService }> = async (
  app,
  { moderation },
) => {
  app.get(
    '/v1/admin/reports',
    {
      schema: {
        operationId: 'listReports',
        tags,
        summary: 'Reported listings, newest first (open by default)',
        querystring: StrictObject({
          status: Type.Optional(StringEnum(['open', 'dismissed', 'actioned'])),
          ...PageQuery,
        }),
        response: { 200: Page(Report), ...problems(401, 403) },
      },
      config: admin,
    },
    async (req) => moderation.reports(actorCtx(req), req.query),
  )

  app.post(
    '/v1/admin/reports/:id/dismiss',
    {
      schema: {
        operationId: 'dismissReport',
        tags,
        summary: 'Close a report without action',
        params: IdParams,
        body: StrictObject({ note: Type.String({ minLength: 1, maxLength: 1000 }) }),
        response: { 200: Type.Object({ id: Id, status: Type.Literal('dismissed') }), ...problems(401, 403, 404, 409) },
      },
      config: admin,
    },
    async (req) => moderation.dismissReport(actorCtx(req), req.params.id, req.body.note),
  )

  app.post(
    '/v1/admin/listings/:id/remove',
    {
      schema: {
        operationId: 'removeListing',
        tags,
        summary: 'Remove a listing: the seller is told why, its reports close, it leaves search and carts',
        params: IdParams,
        body: StrictObject({ reason: Type.String({ minLength: 1, maxLength: 500 }) }),
        response: {
          200: Type.Object({
            listingId: Id,
            status: Type.Literal('removed'),
            reportsClosed: Type.Integer(),
            cartsCleared: Type.Integer(),
          }),
          ...problems(401, 403, 404, 409),
        },
      },
      config: admin,
    },
    async (req) => moderation.removeListing(actorCtx(req), req.params.id, req.body.reason),
  )

  app.get(
    '/v1/admin/stats',
    {
      schema: {
        operationId: 'getStats',
        tags,
        summary:
          'Revenue by day, orders by status, top categories and sellers over [from, to) (default: the last 30 days)',
        querystring: StrictObject({
          from: Type.Optional(Timestamp),
          to: Type.Optional(Timestamp),
          top: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
        }),
        response: { 200: Stats, ...problems(401, 403) },
      },
      config: admin,
    },
    async (req) => marketplaceStats(actorCtx(req), req.query),
  )
}
