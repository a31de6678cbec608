import { audit } from '../audit/index.js'
import type { Db, Knex } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { adminsQuery, findUser } from '../accounts/index.js'
import { ListingErrors, findListing, isListingVisibleTo } from '../listings/index.js'
import { shipmentForReview } from '../orders/index.js'
import { ReviewErrors } from './trust.errors.js'
import type { ReviewFlagRow, ReviewRow } from './trust.tables.js'

export type RatingSummary = { average: number | null; count: number; histogram: Record<1 | 2 | 3 | 4 | 5, number> }

/** A review as pages show it: the row, its buyer's name and the listings of its shipment. */
type ReviewView = ReviewRow & {
  buyer_name: string
  listings: { id: string | null; title: string }[] | null
  cursor_at: string
}

type StarCounts = Record<`stars_${1 | 2 | 3 | 4 | 5}`, number>

const STARS = [1, 2, 3, 4, 5] as const

export function summaryOf(row: Partial<Record<`stars_${1 | 2 | 3 | 4 | 5}`, number>> | undefined): RatingSummary {
  const histogram = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } as RatingSummary['histogram']
  let count = 0
  let sum = 0
  for (const s of STARS) {
    const n = Number(row?.[`stars_${s}`] ?? 0)
    histogram[s] = n
    count += n
    sum += n * s
  }
  return { average: count ? Math.round((sum / count) * 100) / 100 : null, count, histogram }
}

/** A seller's rating over visible reviews, from the counters kept with every review change. */
export async function sellerRating(db: Db, sellerId: string): Promise<RatingSummary> {
  return summaryOf(await db('seller_ratings').where('seller_id', sellerId).first())
}

/** Moves one review's star in or out of its seller's counters (delta +1 or −1). */
async function bumpRating(db: Knex.Transaction, sellerId: string, rating: number, delta: 1 | -1): Promise<void> {
  const column = `stars_${rating}`
  if (!STARS.includes(rating as 1)) throw new Error(`bad rating ${rating}`)
  await db.raw(
    `insert into seller_ratings (seller_id, :column:) values (:sellerId, greatest(:delta, 0))
     on conflict (seller_id) do update set :column: = seller_ratings.:column: + :delta`,
    { column, sellerId, delta },
  )
}

function reviewsQuery(db: Db) {
  return db('reviews as r')
    .join('users as b', 'b.id', 'r.buyer_id')
    .select<ReviewView[]>(
      'r.*',
      'b.name as buyer_name',
      db.raw("to_json(r.created_at) #>> '{}' as cursor_at"),
      db.raw(`(select coalesce(json_agg(json_build_object('id', oi.listing_id, 'title', oi.title) order by oi.created_at), '[]'::json)
               from order_items oi where oi.shipment_id = r.shipment_id) as listings`),
    )
}

function toReview(r: ReviewView) {
  return {
    id: r.id,
    shipmentId: r.shipment_id,
    sellerId: r.seller_id,
    buyer: { id: r.buyer_id, name: r.buyer_name },
    rating: r.rating,
    body: r.body,
    reply: r.reply_body && r.replied_at ? { body: r.reply_body, createdAt: r.replied_at.toISOString() } : null,
    listings: r.listings ?? [],
    createdAt: r.created_at.toISOString(),
  }
}

type PageQ = { limit?: number; cursor?: string }

async function page(base: ReturnType<typeof reviewsQuery>, q: PageQ, scope: string) {
  const limit = q.limit ?? 20
  const after = decodeCursor(q.cursor, 2, scope) as [string, string] | undefined
  if (after) base.whereRaw('(r.created_at, r.id) < (?::timestamptz, ?::uuid)', after)
  const rows = await base
    .orderBy([
      { column: 'r.created_at', order: 'desc' },
      { column: 'r.id', order: 'desc' },
    ])
    .limit(limit + 1)
  return pageOf(rows, limit, (r) => [r.cursor_at, r.id], scope)
}

/** Reviews of sellers by buyers of received shipments; replies, flags and moderation. */
export function createReviewsService(deps: { spine: EventSpine }) {
  const { spine } = deps

  async function lockReview(tx: TxCtx, id: string): Promise<ReviewRow> {
    const row = await tx.db('reviews').where('id', id).forUpdate().first()
    if (!row) throw Errors.notFound('Review')
    return row
  }

  async function fetchOne(db: Db, id: string) {
    const row = await reviewsQuery(db).where('r.id', id).first()
    return toReview(row!)
  }

  return {
    async create(ctx: Ctx & { actor: Actor }, shipmentId: string, input: { rating: number; body: string }) {
      return spine.transaction(ctx, async (tx) => {
        const shipment = await shipmentForReview(tx.db, shipmentId, { lock: true })
        if (!shipment) throw Errors.notFound('Shipment')
        if (shipment.sellerId === ctx.actor.id) throw ReviewErrors.cannotReviewSelf()
        if (shipment.buyerId !== ctx.actor.id) throw Errors.notFound('Shipment')
        if (shipment.status !== 'received') throw ReviewErrors.notReceived()
        if (await tx.db('reviews').where('shipment_id', shipmentId).first('id')) throw ReviewErrors.alreadyReviewed()
        const [review] = await tx
          .db('reviews')
          .insert({
            shipment_id: shipmentId,
            order_id: shipment.orderId,
            buyer_id: ctx.actor.id,
            seller_id: shipment.sellerId,
            rating: input.rating,
            body: input.body.trim(),
          })
          .onConflict('shipment_id')
          .ignore()
          .returning('id')
        if (!review) throw ReviewErrors.alreadyReviewed()
        await bumpRating(tx.db, shipment.sellerId, input.rating, 1)
        await spine.notify(tx, [shipment.sellerId], 'review', { reviewId: review.id, rating: input.rating })
        return fetchOne(tx.db, review.id)
      })
    },

    async listForSeller(ctx: Ctx, sellerId: string, q: PageQ) {
      const seller = await findUser(ctx.db, sellerId)
      if (!seller || seller.banned_at) throw Errors.notFound('User')
      const result = await page(
        reviewsQuery(ctx.db).where('r.seller_id', sellerId).andWhere('r.status', 'visible'),
        q,
        `seller-reviews:${sellerId}`,
      )
      return {
        items: result.items.map(toReview),
        nextCursor: result.nextCursor,
        summary: await sellerRating(ctx.db, sellerId),
      }
    },

    async listForListing(ctx: Ctx, listingId: string, q: PageQ) {
      const listing = await findListing(ctx.db, listingId)
      if (!listing || !isListingVisibleTo(listing, null)) throw ListingErrors.listingNotFound()
      // Narrows a query over `reviews as r` in place, so each query keeps its own row type.
      const ofListing = <Q extends Knex.QueryBuilder>(qb: Q): Q => {
        qb.where('r.status', 'visible').whereExists(
          ctx.db('order_items as oi').whereRaw('oi.shipment_id = r.shipment_id').andWhere('oi.listing_id', listingId),
        )
        return qb
      }
      const result = await page(ofListing(reviewsQuery(ctx.db)), q, `listing-reviews:${listingId}`)
      const counts = await ofListing(ctx.db('reviews as r'))
        .select(...STARS.map((s) => ctx.db.raw(`count(*) filter (where r.rating = ${s})::int as stars_${s}`)))
        .first<StarCounts | undefined>()
      return { items: result.items.map(toReview), nextCursor: result.nextCursor, summary: summaryOf(counts) }
    },

    async reply(ctx: Ctx & { actor: Actor }, reviewId: string, body: string) {
      return spine.transaction(ctx, async (tx) => {
        const review = await lockReview(tx, reviewId)
        if (review.status !== 'visible') throw Errors.notFound('Review')
        if (review.seller_id !== ctx.actor.id) throw ReviewErrors.notTheSeller()
        if (review.reply_body) throw ReviewErrors.alreadyReplied()
        await tx
          .db('reviews')
          .where('id', reviewId)
          .update({ reply_body: body.trim(), replied_at: tx.db.fn.now(), updated_at: tx.db.fn.now() })
        return fetchOne(tx.db, reviewId)
      })
    },

    async flag(ctx: Ctx & { actor: Actor }, reviewId: string, reason: string) {
      return spine.transaction(ctx, async (tx) => {
        const review = await lockReview(tx, reviewId)
        if (review.status !== 'visible') throw Errors.notFound('Review')
        const inserted = await tx
          .db('review_flags')
          .insert({ review_id: reviewId, user_id: ctx.actor.id, reason })
          .onConflict(['review_id', 'user_id'])
          .ignore()
          .returning('review_id')
        if (inserted.length === 0) throw ReviewErrors.alreadyFlagged()
        const [row] = await tx
          .db('reviews')
          .where('id', reviewId)
          .increment('open_flags', 1)
          .returning<Pick<ReviewRow, 'open_flags'>[]>('open_flags')
        // The moderation queue appears live in admins' consoles.
        spine.toAdmins(tx, 'admin:flag', { reviewId, reason })
        // The moderators are told (their devices too: `review_flagged` pushes).
        await spine.notify(tx, adminsQuery(tx.db).whereNot('id', ctx.actor.id), 'review_flagged', {
          reviewId,
          reason,
        })
        return { reviewId, openFlags: row!.open_flags }
      })
    },

    async adminList(ctx: Ctx & { actor: Actor }, q: PageQ & { status?: 'flagged' | 'visible' | 'hidden' }) {
      const status = q.status ?? 'flagged'
      const base = reviewsQuery(ctx.db).select<ReviewView[]>('r.status', 'r.open_flags', 'r.moderation_note')
      if (status === 'flagged') base.where('r.status', 'visible').andWhere('r.open_flags', '>', 0)
      else base.where('r.status', status)
      const result = await page(base, q, 'admin-reviews')
      const ids = result.items.map((r) => r.id)
      const flags: ReviewFlagRow[] = ids.length
        ? await ctx.db('review_flags').whereIn('review_id', ids).orderBy('created_at')
        : []
      return {
        items: result.items.map((r) => ({
          ...toReview(r),
          status: r.status,
          openFlags: r.open_flags,
          moderationNote: r.moderation_note,
          flags: flags
            .filter((f) => f.review_id === r.id)
            .map((f) => ({
              userId: f.user_id,
              reason: f.reason,
              createdAt: f.created_at.toISOString(),
              resolved: f.resolved_at !== null,
            })),
        })),
        nextCursor: result.nextCursor,
      }
    },

    /** Hide, restore or dismiss flags; a hidden review leaves its seller's rating in the same transaction. */
    async moderate(
      ctx: Ctx & { actor: Actor },
      reviewId: string,
      input: { action: 'hide' | 'restore' | 'dismiss_flags'; note: string },
    ) {
      return spine.transaction(ctx, async (tx) => {
        const review = await lockReview(tx, reviewId)
        const before = { status: review.status, openFlags: review.open_flags }
        const resolveFlags = async () => {
          await tx
            .db('review_flags')
            .where('review_id', reviewId)
            .whereNull('resolved_at')
            .update({ resolved_at: tx.db.fn.now() })
        }
        let after: { status: ReviewRow['status']; openFlags: number }
        if (input.action === 'hide') {
          if (review.status === 'hidden') throw ReviewErrors.alreadyHidden()
          await resolveFlags()
          await bumpRating(tx.db, review.seller_id, review.rating, -1)
          after = { status: 'hidden', openFlags: 0 }
        } else if (input.action === 'restore') {
          if (review.status !== 'hidden') throw ReviewErrors.notHidden()
          await bumpRating(tx.db, review.seller_id, review.rating, 1)
          after = { status: 'visible', openFlags: 0 }
        } else {
          if (review.open_flags === 0) throw ReviewErrors.noOpenFlags()
          await resolveFlags()
          after = { status: review.status, openFlags: 0 }
        }
        await tx.db('reviews').where('id', reviewId).update({
          status: after.status,
          open_flags: after.openFlags,
          moderation_note: input.note,
          moderated_by: ctx.actor.id,
          moderated_at: tx.db.fn.now(),
          updated_at: tx.db.fn.now(),
        })
        await audit(tx, {
          action: `admin.review_${input.action === 'dismiss_flags' ? 'flags_dismissed' : input.action === 'hide' ? 'hidden' : 'restored'}`,
          targetType: 'review',
          targetId: reviewId,
          before,
          after,
          note: input.note,
        })
        const row = (await reviewsQuery(tx.db)
          .select('r.status', 'r.open_flags', 'r.moderation_note')
          .where('r.id', reviewId)
          .first<ReviewView | undefined>())!
        return {
          ...toReview(row),
          status: row.status,
          openFlags: row.open_flags,
          moderationNote: row.moderation_note,
          flags: [],
        }
      })
    },
  }
}

export type ReviewsService = ReturnType<typeof createReviewsService>
