import { randomUUID } from 'node:crypto'
import { blobDeletions } from '../images/index.js'
import type { BlobStore } from '../images/index.js'
import { encodeImageVariants } from '../images/index.js'
import { isTxCtx, type Actor, type Ctx, type TxCtx } from '../shared/index.js'
import type { EventSpine } from '../events/index.js'
import { mayViewListing } from './availability.js'
import { ListingErrors as E } from './listings.errors.js'
import { findListing } from './listings.service.js'
import { toImage, type ImageJson } from './listings.sql.js'
import type { ListingImageRow } from './listings.tables.js'

export const MAX_IMAGES_PER_LISTING = 5
/** How long an upload may take before its files count as orphans for the sweeper. */
const UPLOAD_GRACE_SECONDS = 3600

type ActorCtx = Ctx & { actor: Actor }
const toJson = (r: ImageJson): ImageJson => ({
  id: r.id,
  position: r.position,
  width: r.width,
  height: r.height,
  variants: r.variants,
})

/**
 * Listing photos. An upload is checked and re-encoded before anything is stored; its files
 * are recorded in the blob outbox before they are written and the record is cancelled in
 * the transaction that stores the image row, so a failure at any step (bad file, storage
 * error, a 6th photo that lost the race, a crash) leaves neither a row nor a file behind.
 */
export function createListingImagesService({ spine, blobs }: { spine: EventSpine; blobs: BlobStore }) {
  /** Locks the listing and checks the actor is its seller and it can still change. */
  async function lockForEdit(tx: TxCtx, actor: Actor, listingId: string): Promise<void> {
    const row = await findListing(tx.db, listingId, { forUpdate: true })
    if (!row || !mayViewListing(row, actor)) throw E.listingNotFound()
    if (row.seller_id !== actor.id) throw E.notOwner()
    if (row.status === 'removed') throw E.listingRemoved()
  }

  async function list(ctx: Ctx, listingId: string) {
    const rows = await ctx.db('listing_images').where('listing_id', listingId).orderBy('position').select('*')
    return rows.map((r) => toImage(toJson(r), blobs))
  }

  return {
    /** `readFile` reads the upload; it is called only once the cheap checks passed. */
    async upload(ctx: ActorCtx, listingId: string, readFile: () => Promise<Buffer>) {
      // Cheap checks first, so a 6th photo or a stranger's listing costs no upload or image work.
      await spine.transaction(ctx, async (tx) => {
        await lockForEdit(tx, ctx.actor, listingId)
        const counted = await tx.db('listing_images').where('listing_id', listingId).count({ n: '*' }).first()
        if (Number(counted?.n ?? 0) >= MAX_IMAGES_PER_LISTING) throw E.tooManyImages(MAX_IMAGES_PER_LISTING)
      })
      const encoded = await encodeImageVariants(await readFile())

      const imageId = randomUUID()
      const pathnames = encoded.variants.map((v) => `listings/${listingId}/${imageId}-${v.name}.webp`)
      const intents = await blobDeletions.schedule(ctx.db, pathnames, UPLOAD_GRACE_SECONDS)
      try {
        const stored = await Promise.allSettled(
          encoded.variants.map((v, i) => blobs.put(pathnames[i]!, v.data, 'image/webp')),
        )
        const failed = stored.find((s): s is PromiseRejectedResult => s.status === 'rejected')
        if (failed) throw failed.reason
        const variants = Object.fromEntries(
          encoded.variants.map((v, i) => {
            const blob = (stored[i] as PromiseFulfilledResult<{ pathname: string; url: string }>).value
            return [
              v.name,
              { pathname: blob.pathname, url: blob.url, width: v.width, height: v.height, bytes: v.data.length },
            ]
          }),
        ) as ListingImageRow['variants']
        const row = await spine.transaction(ctx, async (tx) => {
          await lockForEdit(tx, ctx.actor, listingId)
          const { n, next }: { n: number; next: number } = await tx
            .db('listing_images')
            .where('listing_id', listingId)
            .first(tx.db.raw('count(*)::int as n'), tx.db.raw('coalesce(max(position) + 1, 0)::int as next'))
          if (n >= MAX_IMAGES_PER_LISTING) throw E.tooManyImages(MAX_IMAGES_PER_LISTING)
          const [inserted] = await tx
            .db('listing_images')
            .insert({
              id: imageId,
              listing_id: listingId,
              position: next,
              width: encoded.width,
              height: encoded.height,
              variants,
            })
            .returning('*')
          await blobDeletions.cancel(tx.db, intents)
          await tx.db('listings').where('id', listingId).update({ updated_at: tx.db.fn.now() })
          return inserted!
        })
        return toImage(toJson(row), blobs)
      } catch (err) {
        // Whatever was written goes now (or, if storage is down, when the sweeper runs).
        await blobDeletions.dueNow(ctx.db, intents)
        await blobDeletions.runNow(ctx.db, blobs, intents, ctx.log)
        throw err
      }
    },

    async remove(ctx: ActorCtx, listingId: string, imageId: string): Promise<void> {
      const outbox = await spine.transaction(ctx, async (tx) => {
        await lockForEdit(tx, ctx.actor, listingId)
        const [row] = await tx
          .db('listing_images')
          .where({ id: imageId, listing_id: listingId })
          .delete()
          .returning('variants')
        if (!row) throw E.imageNotFound()
        await tx.db('listings').where('id', listingId).update({ updated_at: tx.db.fn.now() })
        return blobDeletions.schedule(
          tx.db,
          Object.values(row.variants).map((v) => v.pathname),
        )
      })
      if (!isTxCtx(ctx)) await blobDeletions.runNow(ctx.db, blobs, outbox, ctx.log)
    },

    /** Reorders the photos; `imageIds` must name each photo of the listing exactly once. */
    async reorder(ctx: ActorCtx, listingId: string, imageIds: string[]) {
      await spine.transaction(ctx, async (tx) => {
        await lockForEdit(tx, ctx.actor, listingId)
        const current = (await tx.db('listing_images').where('listing_id', listingId).select('id')).map((r) => r.id)
        if (current.length !== imageIds.length || !imageIds.every((id) => current.includes(id)))
          throw E.imageOrderMismatch()
        await tx.db.raw(
          `update listing_images i set position = o.ord - 1
           from unnest(?::uuid[]) with ordinality as o(id, ord)
           where i.id = o.id and i.listing_id = ?`,
          [imageIds, listingId],
        )
      })
      return list(ctx, listingId)
    },

    list,
  }
}

export type ListingImagesService = ReturnType<typeof createListingImagesService>
