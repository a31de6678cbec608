import { adminsQuery } from '../accounts/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { isListingPublic } from './availability.js'
import { ListingErrors as E } from './listings.errors.js'
import type { ReportBody } from './listings.schemas.js'
import { findListing } from './listings.service.js'
import type { ListingReportRow } from './listings.tables.js'

/**
 * Reports: a signed-in user flags a listing for the moderators (the trust feature reads
 * `listing_reports` for its queue, and admins' consoles hear of each new one live as
 * `admin:report`). One open report per reporter and listing.
 */
export function createReportsService(deps: { spine: EventSpine }) {
  const { spine } = deps
  return {
    async create(ctx: Ctx & { actor: Actor }, listingId: string, body: ReportBody) {
      const listing = await findListing(ctx.db, listingId)
      if (!listing || !isListingPublic(listing)) throw E.listingNotFound()
      if (listing.seller_id === ctx.actor.id) throw E.ownListing('report')
      const row = await spine.transaction(ctx, async (tx) => {
        const { rows } = await tx.db.raw<{
          rows: Pick<ListingReportRow, 'id' | 'listing_id' | 'reason' | 'detail' | 'status' | 'created_at'>[]
        }>(
          `insert into listing_reports (listing_id, reporter_id, reason, detail) values (:listingId, :reporterId, :reason, :detail)
           on conflict (listing_id, reporter_id) where status = 'open' do nothing
           returning id, listing_id, reason, detail, status, created_at`,
          { listingId, reporterId: ctx.actor.id, reason: body.reason, detail: body.detail?.trim() || null },
        )
        const created = rows[0]
        if (!created) throw E.alreadyReported()
        spine.toAdmins(tx, 'admin:report', { listingId, reportId: created.id, reason: created.reason })
        // The moderators are told (their devices too: `listing_reported` pushes).
        await spine.notify(tx, adminsQuery(tx.db).whereNot('id', ctx.actor.id), 'listing_reported', {
          listingId,
          reportId: created.id,
          reason: created.reason,
        })
        return created
      })
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
}
export type ReportsService = ReturnType<typeof createReportsService>

/** A moderator's decision on reports: who decided, when (now), and why. */
export type ReportResolution = { resolvedBy: string; note: string }

/**
 * Closes every open report of a listing as `actioned` (the listing was removed), in the
 * caller's transaction; returns how many were closed.
 */
export async function actionOpenReports(db: Db, listingId: string, resolution: ReportResolution): Promise<number> {
  return db('listing_reports').where({ listing_id: listingId, status: 'open' }).update({
    status: 'actioned',
    resolved_by: resolution.resolvedBy,
    resolved_at: db.fn.now(),
    resolution_note: resolution.note,
  })
}

/** One report by id, locked for the caller's transaction (a moderator is about to resolve it). */
export async function lockReport(
  db: Db,
  reportId: string,
): Promise<Pick<ListingReportRow, 'id' | 'listing_id' | 'status'> | undefined> {
  return db('listing_reports').where('id', reportId).forUpdate().first('id', 'listing_id', 'status')
}

/** Closes one report as `dismissed` (nothing to act on), in the caller's transaction. */
export async function dismissReport(db: Db, reportId: string, resolution: ReportResolution): Promise<void> {
  await db('listing_reports').where('id', reportId).update({
    status: 'dismissed',
    resolved_by: resolution.resolvedBy,
    resolved_at: db.fn.now(),
    resolution_note: resolution.note,
  })
}
