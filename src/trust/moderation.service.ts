import { audit } from '../audit/index.js'
import { removeListingFromCarts } from '../cart/index.js'
import {
  actionOpenReports,
  dismissReport,
  findListing,
  lockReport,
  type ListingReportRow,
  type ListingRow,
} from '../listings/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { ModerationErrors } from './trust.errors.js'

type AdminCtx = Ctx & { actor: Actor }

/** A report in the queue, with its listing, its reporter's name and the listing's open report count. */
type QueuedReport = ListingReportRow & {
  cursor_at: string
  listing_title: ListingRow['title']
  listing_status: ListingRow['status']
  seller_id: ListingRow['seller_id']
  reporter_name: string
  open_reports: number
}

/** The listing-report queue and admin removal of listings. */
export function createModerationService(deps: {
  spine: EventSpine
  /** The catalogue's removal (status `removed`, photos deleted, seller told, audited). */
  removeListing: (ctx: AdminCtx, id: string, opts: { reason: string }) => Promise<void>
}) {
  const { spine } = deps
  return {
    async reports(ctx: AdminCtx, q: { status?: 'open' | 'dismissed' | 'actioned'; limit?: number; cursor?: string }) {
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 2, 'admin-reports') as [string, string] | undefined
      const query = ctx
        .db('listing_reports as r')
        .join('listings as l', 'l.id', 'r.listing_id')
        .join('users as u', 'u.id', 'r.reporter_id')
        .where('r.status', q.status ?? 'open')
        .select<QueuedReport[]>(
          'r.*',
          'l.title as listing_title',
          'l.status as listing_status',
          'l.seller_id',
          'u.name as reporter_name',
          ctx.db.raw("to_json(r.created_at) #>> '{}' as cursor_at"),
          ctx.db.raw(
            "(select count(*)::int from listing_reports o where o.listing_id = r.listing_id and o.status = 'open') as open_reports",
          ),
        )
      if (after) query.whereRaw('(r.created_at, r.id) < (?::timestamptz, ?::uuid)', after)
      const rows = await query
        .orderBy([
          { column: 'r.created_at', order: 'desc' },
          { column: 'r.id', order: 'desc' },
        ])
        .limit(limit + 1)
      const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'admin-reports')
      return {
        items: page.items.map((r) => ({
          id: r.id,
          reason: r.reason,
          detail: r.detail,
          status: r.status,
          resolutionNote: r.resolution_note,
          resolvedAt: r.resolved_at?.toISOString() ?? null,
          createdAt: r.created_at.toISOString(),
          reporter: { id: r.reporter_id, name: r.reporter_name },
          listing: {
            id: r.listing_id,
            title: r.listing_title,
            status: r.listing_status,
            sellerId: r.seller_id,
            openReports: r.open_reports,
          },
        })),
        nextCursor: page.nextCursor,
      }
    },

    /**
     * Removes a listing for a reason: the catalogue removes it (photos, seller told,
     * audited), then its open reports are closed as actioned and it leaves every cart.
     */
    async removeListing(ctx: AdminCtx, listingId: string, reason: string) {
      const listing = await findListing(ctx.db, listingId)
      if (!listing) throw Errors.notFound('Listing')
      if (listing.status === 'removed') throw ModerationErrors.alreadyRemoved()
      // One transaction: the removal joins it, so reports, carts and the listing change together.
      return spine.transaction(ctx, async (tx) => {
        await deps.removeListing({ ...tx, actor: ctx.actor }, listingId, { reason })
        const closed = await actionOpenReports(tx.db, listingId, { resolvedBy: ctx.actor.id, note: reason })
        const carts = await removeListingFromCarts(tx.db, listingId)
        return { listingId, status: 'removed' as const, reportsClosed: closed, cartsCleared: carts }
      })
    },

    async dismissReport(ctx: AdminCtx, reportId: string, note: string) {
      return spine.transaction(ctx, async (tx) => {
        const report = await lockReport(tx.db, reportId)
        if (!report) throw Errors.notFound('Report')
        if (report.status !== 'open') throw ModerationErrors.reportClosed()
        await dismissReport(tx.db, reportId, { resolvedBy: ctx.actor.id, note })
        await audit(tx, {
          action: 'admin.report_dismissed',
          targetType: 'listing_report',
          targetId: reportId,
          before: { status: 'open' },
          after: { status: 'dismissed' },
          note,
        })
        return { id: reportId, status: 'dismissed' as const }
      })
    },
  }
}

export type ModerationService = ReturnType<typeof createModerationService>
