import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { UserRow } from '../accounts/index.js'
import { actorCtx } from '../http/index.js'
import type { ListingReportRow, ListingRow } from '../listings/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors, Id, IdParams, OrNull, problems, Timestamp } from '../shared/index.js'
import { AdminUser } from './admin.schemas.js'

/** How many of each kind the profile shows, newest first. */
const SHOWN = 20

const UserListing = Type.Object({
  id: Id,
  title: Type.String(),
  status: Type.String({ description: 'draft, active, sold or removed' }),
  price: Type.Integer(),
  currency: Type.String(),
  hiddenByBan: Type.Boolean({ description: "Off every public path while its seller's ban lasts" }),
  openReports: Type.Integer(),
  createdAt: Timestamp,
})

const UserReport = Type.Object({
  id: Id,
  listingId: Id,
  listingTitle: Type.String(),
  reporterId: Id,
  reason: Type.String(),
  detail: OrNull(Type.String()),
  status: Type.String({ description: 'open, dismissed or actioned' }),
  createdAt: Timestamp,
})

/** One user as the admin console's profile shows them. */
export const AdminUserDetail = Type.Object(
  {
    user: AdminUser,
    emailVerified: Type.Boolean(),
    counts: Type.Object({
      listings: Type.Integer(),
      ordersAsBuyer: Type.Integer(),
      reportsAgainst: Type.Integer({ description: "Reports on this user's listings" }),
      reportsMade: Type.Integer(),
    }),
    listings: Type.Array(UserListing, { description: `The newest ${SHOWN} listings, any status` }),
    reportsAgainst: Type.Array(UserReport, { description: `The newest ${SHOWN} reports on their listings` }),
    reportsMade: Type.Array(UserReport, { description: `The newest ${SHOWN} reports they made` }),
  },
  {
    title: 'AdminUserDetail',
    examples: [
      {
        user: {
          id: '5d1c9c1e-2f0a-4b8e-8d7e-6f3f6a1b2c3d',
          email: 'ada@demo.oja',
          name: 'Ada Okafor',
          role: 'user',
          bannedAt: null,
          banReason: null,
          createdAt: '2026-11-02T08:00:00.000Z',
        },
        emailVerified: true,
        counts: { listings: 1, ordersAsBuyer: 3, reportsAgainst: 1, reportsMade: 0 },
        listings: [
          {
            id: '9a7f1d2c-1b3e-4c5d-8e9f-0a1b2c3d4e5f',
            title: 'Three-seater sofa',
            status: 'active',
            price: 25000000,
            currency: 'NGN',
            hiddenByBan: false,
            openReports: 1,
            createdAt: '2026-11-20T12:00:00.000Z',
          },
        ],
        reportsAgainst: [
          {
            id: '1f2e3d4c-5b6a-4798-8a9b-0c1d2e3f4a5b',
            listingId: '9a7f1d2c-1b3e-4c5d-8e9f-0a1b2c3d4e5f',
            listingTitle: 'Three-seater sofa',
            reporterId: '2b3c4d5e-6f70-4819-9a0b-1c2d3e4f5a6b',
            reason: 'scam',
            detail: 'Asks for payment outside Oja',
            status: 'open',
            createdAt: '2026-11-21T09:30:00.000Z',
          },
        ],
        reportsMade: [],
      },
    ],
  },
)

type ReportJoined = ListingReportRow & { listing_title: string }
const reportView = (r: ReportJoined) => ({
  id: r.id,
  listingId: r.listing_id,
  listingTitle: r.listing_title,
  reporterId: r.reporter_id,
  reason: r.reason,
  detail: r.detail,
  status: r.status,
  createdAt: r.created_at.toISOString(),
})

/** A user's profile for admins: the account, their newest listings, reports on them and by them, and counts. */
export async function adminUserDetail(ctx: Ctx & { actor: Actor }, userId: string) {
  const db = ctx.db
  const user = (await db('users').where('id', userId).first()) as UserRow | undefined
  if (!user) throw Errors.notFound('User')
  const reports = () =>
    db('listing_reports as r')
      .join('listings as l', 'l.id', 'r.listing_id')
      .select<ReportJoined[]>('r.*', 'l.title as listing_title')
  const sub = (sql: string) => db.raw(`(${sql})::int`, { id: userId })
  const [listings, against, made, counts] = await Promise.all([
    db('listings as l')
      .where('l.seller_id', userId)
      .orderBy([
        { column: 'l.created_at', order: 'desc' },
        { column: 'l.id', order: 'desc' },
      ])
      .limit(SHOWN)
      .select<(ListingRow & { open_reports: number })[]>(
        'l.*',
        db.raw(
          "(select count(*)::int from listing_reports r where r.listing_id = l.id and r.status = 'open') as open_reports",
        ),
      ),
    reports().where('l.seller_id', userId).orderBy('r.created_at', 'desc').limit(SHOWN),
    reports().where('r.reporter_id', userId).orderBy('r.created_at', 'desc').limit(SHOWN),
    db
      .select({
        listings: sub('select count(*) from listings where seller_id = :id'),
        ordersAsBuyer: sub('select count(*) from orders where buyer_id = :id'),
        reportsAgainst: sub(
          'select count(*) from listing_reports r join listings l on l.id = r.listing_id where l.seller_id = :id',
        ),
        reportsMade: sub('select count(*) from listing_reports where reporter_id = :id'),
      })
      .first<{ listings: number; ordersAsBuyer: number; reportsAgainst: number; reportsMade: number }>(),
  ])
  return {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      bannedAt: user.banned_at?.toISOString() ?? null,
      banReason: user.ban_reason,
      createdAt: user.created_at.toISOString(),
    },
    emailVerified: !!user.email_verified_at,
    counts,
    listings: listings.map((l) => ({
      id: l.id,
      title: l.title,
      status: l.status,
      price: l.price,
      currency: l.currency,
      hiddenByBan: l.seller_banned,
      openReports: l.open_reports,
      createdAt: l.created_at.toISOString(),
    })),
    reportsAgainst: against.map(reportView),
    reportsMade: made.map(reportView),
  }
}

/** GET /v1/admin/users/:id: the console's user profile (their orders: GET /v1/admin/orders?buyerId=). */
export const adminUserDetailRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/admin/users/:id',
    {
      schema: {
        operationId: 'getAdminUser',
        tags: ['admin'],
        summary: 'A user with their newest listings, the reports on them and by them, and counts',
        params: IdParams,
        response: { 200: AdminUserDetail, ...problems(401, 403, 404) },
      },
      config: { auth: 'admin' },
    },
    async (req) => adminUserDetail(actorCtx(req), req.params.id),
  )
}
