import type { Db, ReadPool } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { audit } from '../audit/index.js'
import { blobDeletions } from '../images/index.js'
import type { BlobStore } from '../images/index.js'
import { isTxCtx, type Actor, type Ctx, type TxCtx } from '../shared/index.js'
import { pageOf } from '../shared/index.js'
import { userBannedSql } from '../accounts/index.js'
import { decodeKeyset } from './keyset.js'
import { hotQuery } from '../db/index.js'
import { notifyWantMatches } from '../wants/index.js'
import { queuePriceDrop } from '../wishlists/index.js'
import { liveReservationSql, mayViewListing } from './availability.js'
import { ListingErrors as E, invalidField } from './listings.errors.js'
import type {
  CreateListingBody,
  Listing,
  ListingCard,
  ListingStatus,
  ListingType,
  LocationInput,
  UpdateListingBody,
} from './listings.schemas.js'
import { cardColumns, detailSql, toCard, toListing, type CardRow, type DetailRow } from './listings.sql.js'
import type { ListingRow } from './listings.tables.js'

export type ActorCtx = Ctx & { actor: Actor }

/** Every column of a listing but its search vector (what a lookup by id returns). */
export type ListingRecord = Omit<ListingRow, 'search_vector'>
const RECORD_COLUMNS = [
  'id',
  'seller_id',
  'title',
  'description',
  'type',
  'price',
  'currency',
  'condition',
  'category_id',
  'quantity',
  'sold_quantity',
  'status',
  'city',
  'state',
  'lat',
  'lng',
  'removed_reason',
  'seller_banned',
  'published_at',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof ListingRecord)[]

/**
 * One listing by id, in the caller's database handle or transaction (`forUpdate` locks the
 * row); no visibility check. Other features look a listing up through this, not the table.
 */
export async function findListing(
  db: Db,
  id: string,
  opts: { forUpdate?: boolean } = {},
): Promise<ListingRecord | undefined> {
  const query = db('listings').where('id', id)
  if (opts.forUpdate) query.forUpdate()
  return query.first(RECORD_COLUMNS)
}

/**
 * Takes a seller's listings off every public path (search, browse, detail, wishlists, carts,
 * checkout, offers, new chats) or puts them back, in the caller's transaction: the ban's and
 * the unban's (accounts and trust call it). Returns how many listings changed.
 */
export async function setSellerBanned(db: Db, sellerId: string, banned: boolean): Promise<number> {
  return db('listings').where('seller_id', sellerId).whereNot('seller_banned', banned).update({ seller_banned: banned })
}

export type CatalogueDeps = {
  spine: EventSpine
  blobs: BlobStore
  /** The read pool for the listing detail (PostgreSQL); null on PGlite. */
  reads?: ReadPool | null
}

const isAdmin = (ctx: Ctx) => ctx.actor?.role === 'admin'

/** Trims and checks the text fields the schema cannot (whitespace-only titles). */
function cleanTitle(title: string): string {
  const t = title.trim().replace(/\s+/g, ' ')
  if (t.length < 3) throw invalidField('/body/title', 'must have at least 3 characters')
  return t
}

/** A sale has a positive price; a giveaway costs nothing. */
function checkPrice(type: ListingType, price: number | undefined, path = '/body/price'): number {
  if (type === 'giveaway') {
    if (price !== undefined && price !== 0) throw invalidField(path, 'a giveaway has no price (omit it or send 0)')
    return 0
  }
  if (price === undefined || price <= 0) throw invalidField(path, 'a sale needs a price above 0 (in kobo)')
  return price
}

function locationColumns(location: LocationInput | null | undefined) {
  if (location === undefined) return {}
  if (location === null) return { city: null, state: null, lat: null, lng: null }
  if ((location.lat === undefined) !== (location.lng === undefined))
    throw invalidField('/body/location', 'lat and lng go together')
  return {
    city: location.city.trim(),
    state: location.state.trim(),
    lat: location.lat ?? null,
    lng: location.lng ?? null,
  }
}

async function checkCategory(db: Db, categoryId: string): Promise<void> {
  const row = await db('categories').where('id', categoryId).first('id')
  if (!row) throw invalidField('/body/categoryId', 'no such category')
}

/** Units sold or held by live reservations (the floor for a new quantity). */
async function committedUnits(db: Db, listing: ListingRecord): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: number }[] }>(
    `select coalesce(sum(r.quantity), 0)::int as n from reservations r where r.listing_id = ? and ${liveReservationSql('r')}`,
    [listing.id],
  )
  return listing.sold_quantity + (rows[0]?.n ?? 0)
}

/**
 * Listings: create, read, edit (with price-drop alerts and want matching on first
 * publication), remove (files deleted from storage), and a seller's own list.
 */
export function createListingsService({ spine, blobs, reads = null }: CatalogueDeps) {
  async function detail(ctx: Ctx, id: string): Promise<DetailRow | undefined> {
    const { sql, bindings } = detailSql(ctx.db, id, ctx.actor?.id)
    return (await hotQuery<DetailRow>(ctx.db, sql, bindings, { prepared: true, reads }))[0]
  }

  /** Locks the listing for a change by its seller (404 when the actor may not even see it). */
  async function lockOwned(
    tx: TxCtx & { actor: Actor },
    id: string,
    opts: { allowAdmin?: boolean } = {},
  ): Promise<ListingRecord> {
    const row = await findListing(tx.db, id, { forUpdate: true })
    if (!row || !mayViewListing(row, tx.actor)) throw E.listingNotFound()
    if (row.seller_id !== tx.actor.id && !(opts.allowAdmin && isAdmin(tx))) throw E.notOwner()
    return row
  }

  return {
    /** The full listing as its viewer may see it. */
    async get(ctx: Ctx, id: string): Promise<Listing> {
      const row = await detail(ctx, id)
      if (!row || !mayViewListing(row, ctx.actor)) throw E.listingNotFound()
      return toListing(row, blobs)
    },

    async create(ctx: ActorCtx, body: CreateListingBody): Promise<Listing> {
      const title = cleanTitle(body.title)
      const price = checkPrice(body.type, body.price)
      const location = locationColumns(body.location)
      await checkCategory(ctx.db, body.categoryId)
      const draft = body.draft === true
      const id = await spine.transaction(ctx, async (tx) => {
        const [row] = await tx
          .db('listings')
          .insert({
            seller_id: ctx.actor.id,
            title,
            description: body.description.trim(),
            type: body.type,
            price,
            currency: body.currency ?? 'NGN',
            condition: body.condition,
            category_id: body.categoryId,
            quantity: body.quantity ?? 1,
            status: draft ? 'draft' : 'active',
            published_at: draft ? null : tx.db.fn.now(),
            // A ban committed after this request's token check still reaches the new row.
            seller_banned: tx.db.raw(userBannedSql('?'), [ctx.actor.id]),
            ...location,
          })
          .returning('id')
        if (!draft) await notifyWantMatches(spine, tx, row!.id)
        return row!.id
      })
      return this.get(ctx, id)
    },

    /**
     * The seller edits. In one transaction under the row lock: the lifecycle rules, the
     * quantity floor (sold + reserved), a price drop recorded for the wishlisters when an
     * active listing gets cheaper (one outbox row; the alerts follow within seconds, see
     * src/wishlists/price-drops.ts), and want matching when a draft is published for the
     * first time.
     */
    async update(ctx: ActorCtx, id: string, patch: UpdateListingBody): Promise<Listing> {
      if (patch.categoryId) await checkCategory(ctx.db, patch.categoryId)
      await spine.transaction(ctx, async (tx) => {
        const cur = await lockOwned({ ...tx, actor: ctx.actor }, id)
        if (cur.status === 'removed') throw E.listingRemoved()
        const type = patch.type ?? cur.type
        let price = patch.price ?? cur.price
        if (patch.type === 'giveaway' && patch.price === undefined) price = 0
        price = checkPrice(type, price)
        const quantity = patch.quantity ?? cur.quantity
        if (patch.quantity !== undefined && patch.quantity < cur.quantity) {
          const committed = await committedUnits(tx.db, cur)
          if (patch.quantity < committed) throw E.quantityBelowCommitted(committed)
        }
        const soldOut = cur.sold_quantity >= quantity
        let status: ListingStatus = cur.status
        if (patch.status === 'draft') {
          if (cur.status === 'sold') throw E.invalidTransition('sold', 'draft')
          status = 'draft'
        } else if (patch.status === 'active') {
          if (soldOut) throw E.soldOut()
          status = 'active'
        } else if (cur.status === 'active' || cur.status === 'sold') {
          // A restock relists a sold listing; selling the last unit is commerce's business,
          // but lowering the quantity to what was sold also closes it.
          status = soldOut ? 'sold' : 'active'
        }
        const firstPublication = status === 'active' && cur.published_at === null
        await tx
          .db('listings')
          .where('id', id)
          .update({
            ...(patch.title !== undefined ? { title: cleanTitle(patch.title) } : {}),
            ...(patch.description !== undefined ? { description: patch.description.trim() } : {}),
            ...(patch.condition !== undefined ? { condition: patch.condition } : {}),
            ...(patch.categoryId !== undefined ? { category_id: patch.categoryId } : {}),
            ...locationColumns(patch.location),
            type,
            price,
            quantity,
            status,
            updated_at: tx.db.fn.now(),
          })
        // One outbox row, whatever the number of wishlisters: wishlists' workers alert them
        // after commit (and never if this transaction rolls back).
        if (status === 'active' && cur.status !== 'draft' && price < cur.price)
          await queuePriceDrop(tx.db, { listingId: id, oldPrice: cur.price, newPrice: price, currency: cur.currency })
        if (firstPublication) await notifyWantMatches(spine, tx, id)
      })
      return this.get(ctx, id)
    },

    /**
     * Removes a listing (seller or admin): status `removed`, photos deleted. The files go
     * through the blob outbox in the same transaction and are deleted right after commit;
     * if storage is down the sweeper finishes the job. Removing twice is a no-op. An admin
     * removing someone else's listing is audited and the seller is told (`listing_removed`).
     */
    async remove(ctx: ActorCtx, id: string, opts: { reason?: string } = {}): Promise<void> {
      const outbox = await spine.transaction(ctx, async (tx) => {
        const cur = await lockOwned({ ...tx, actor: ctx.actor }, id, { allowAdmin: true })
        if (cur.status === 'removed') return []
        const byAdmin = cur.seller_id !== ctx.actor.id
        const reason = opts.reason ?? (byAdmin ? 'Removed by a moderator' : null)
        await tx
          .db('listings')
          .where('id', id)
          .update({ status: 'removed', removed_reason: reason, updated_at: tx.db.fn.now() })
        const images = await tx.db('listing_images').where('listing_id', id).delete().returning('variants')
        const pathnames = images.flatMap((i) => Object.values(i.variants).map((v) => v.pathname))
        const ids = await blobDeletions.schedule(tx.db, pathnames)
        if (byAdmin) {
          await audit(tx, {
            action: 'admin.listing_removed',
            targetType: 'listing',
            targetId: id,
            before: { status: cur.status },
            after: { status: 'removed' },
            note: reason ?? undefined,
          })
          // An admin's removal always has a reason: theirs, or the default above.
          await spine.notify(tx, [cur.seller_id], 'listing_removed', { listingId: id, reason: reason! })
        }
        return ids
      })
      // Inside a caller's transaction the files must outlive a possible rollback: the
      // sweeper deletes them once the outbox rows are committed.
      if (!isTxCtx(ctx)) await blobDeletions.runNow(ctx.db, blobs, outbox, ctx.log)
    },

    /** The caller's own listings in any status, newest first. */
    async mine(
      ctx: ActorCtx,
      q: { status?: ListingStatus; limit?: number; cursor?: string },
    ): Promise<{ items: ListingCard[]; nextCursor: string | null }> {
      const limit = q.limit ?? 20
      const after = decodeKeyset(q.cursor, ['timestamp', 'uuid'], 'my-listings') as [string, string] | undefined
      const query = ctx.db('listings as l').join('users as u', 'u.id', 'l.seller_id').where('l.seller_id', ctx.actor.id)
      if (q.status) query.where('l.status', q.status)
      if (after) query.whereRaw('(l.created_at, l.id) < (?::timestamptz, ?::uuid)', after)
      const rows: (CardRow & { created_key: string })[] = await query
        .orderBy([
          { column: 'l.created_at', order: 'desc' },
          { column: 'l.id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select([
          cardColumns(ctx.db, { viewerId: ctx.actor.id }),
          ctx.db.raw(`to_json(l.created_at) #>> '{}' as created_key`),
        ])
      const page = pageOf(rows, limit, (r) => [r.created_key, r.id], 'my-listings')
      return { items: page.items.map((r) => toCard(r, blobs)), nextCursor: page.nextCursor }
    },
  }
}

export type ListingsService = ReturnType<typeof createListingsService>
