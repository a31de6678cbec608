import type { BlobStore } from '../images/index.js'
import { ListingErrors as E, findListing, isListingPublic, listingPublicSql } from '../listings/index.js'
import type { ListingCard } from '../listings/index.js'
import { cardColumns, toCard, type CardRow } from '../listings/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { pageOf } from '../shared/index.js'
import { decodeKeyset } from '../listings/index.js'

type ActorCtx = Ctx & { actor: Actor }

/**
 * Wishlists (favourites). Adding and removing are idempotent; the list shows listings that
 * are still public (active or sold, of a seller who is not banned), newest addition first. Price drops reach wishlisters
 * through the listings service.
 */
export function createWishlistsService({ blobs }: { blobs: BlobStore }) {
  return {
    async add(ctx: ActorCtx, listingId: string): Promise<void> {
      const listing = await findListing(ctx.db, listingId)
      if (!listing || !isListingPublic(listing)) throw E.listingNotFound()
      if (listing.seller_id === ctx.actor.id) throw E.ownListing('wishlist')
      await ctx
        .db('wishlists')
        .insert({ user_id: ctx.actor.id, listing_id: listingId })
        .onConflict(['user_id', 'listing_id'])
        .ignore()
    },

    async remove(ctx: ActorCtx, listingId: string): Promise<void> {
      await ctx.db('wishlists').where({ user_id: ctx.actor.id, listing_id: listingId }).delete()
    },

    async list(
      ctx: ActorCtx,
      q: { limit?: number; cursor?: string },
    ): Promise<{ items: { listing: ListingCard; addedAt: string }[]; nextCursor: string | null }> {
      const limit = q.limit ?? 20
      const after = decodeKeyset(q.cursor, ['timestamp', 'uuid'], 'wishlist') as [string, string] | undefined
      const query = ctx
        .db('wishlists as wl')
        .join('listings as l', 'l.id', 'wl.listing_id')
        .join('users as u', 'u.id', 'l.seller_id')
        .where('wl.user_id', ctx.actor.id)
        .whereRaw(listingPublicSql('l'))
      if (after) query.whereRaw('(wl.created_at, wl.listing_id) < (?::timestamptz, ?::uuid)', after)
      const rows: (CardRow & { added_at: Date; added_key: string })[] = await query
        .orderBy([
          { column: 'wl.created_at', order: 'desc' },
          { column: 'wl.listing_id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select([
          cardColumns(ctx.db, { viewerId: ctx.actor.id }),
          'wl.created_at as added_at',
          ctx.db.raw(`to_json(wl.created_at) #>> '{}' as added_key`),
        ])
      const page = pageOf(rows, limit, (r) => [r.added_key, r.id], 'wishlist')
      return {
        items: page.items.map((r) => ({ listing: toCard(r, blobs), addedAt: r.added_at.toISOString() })),
        nextCursor: page.nextCursor,
      }
    },
  }
}

export type WishlistsService = ReturnType<typeof createWishlistsService>
