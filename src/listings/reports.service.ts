import type { Actor, Ctx } from '../shared/index.js'
import { CatalogueErrors as E } from './listings.errors.js'
import type { ReportBody } from './listings.schemas.js'

type ReportRow = {
  id: string
  listing_id: string
  reason: string
  detail: string | null
  status: 'open' | 'dismissed' | 'actioned'
  created_at: Date
}

/**
 * Reports: a signed-in user flags a listing for the moderators (the trust feature reads
 * `listing_reports` for its queue). One open report per reporter and listing.
 */
export const reportsService = {
  async create(ctx: Ctx & { actor: Actor }, listingId: string, body: ReportBody) {
    const listing = (await ctx.db('listings').where('id', listingId).first('seller_id', 'status')) as
      { seller_id: string; status: string } | undefined
    if (!listing || (listing.status !== 'active' && listing.status !== 'sold')) throw E.listingNotFound()
    if (listing.seller_id === ctx.actor.id) throw E.ownListing('report')
    const { rows } = (await ctx.db.raw(
      `insert into listing_reports (listing_id, reporter_id, reason, detail) values (?, ?, ?, ?)
       on conflict (listing_id, reporter_id) where status = 'open' do nothing
       returning id, listing_id, reason, detail, status, created_at`,
      [listingId, ctx.actor.id, body.reason, body.detail?.trim() || null],
    )) as { rows: ReportRow[] }
    const row = rows[0]
    if (!row) throw E.alreadyReported()
    return {
      id: row.id,
      listingId: row.listing_id,
      reason: row.reason,
      detail: row.detail,
      status: row.status,
      createdAt: row.created_at.toISOString(),
    }
  },
}
