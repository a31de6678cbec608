import { randomUUID } from 'node:crypto'
import { blobDeletions, discardUploads, storeVariants } from '../images/index.js'
import type { BlobStore, EncodedImage } from '../images/index.js'
import { encodeImageVariants } from '../images/index.js'
import { AppError, isTxCtx, type Actor, type Ctx, type TxCtx } from '../shared/index.js'
import type { EventSpine } from '../events/index.js'
import { mayViewListing } from './availability.js'
import { ListingErrors as E, invalidField } from './listings.errors.js'
import { findListing } from './listings.service.js'
import { toImage, type ImageJson } from './listings.sql.js'
import type { ListingImageRow } from './listings.tables.js'

export const MAX_IMAGES_PER_LISTING = 5

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
    /**
     * Adds the photos of one upload request, in order, all or none. `files` yields each part's
     * bytes; it is read only once the cheap checks passed, and each part is checked and
     * encoded as it arrives. A refusal names its part (`/body/file/<index>`). The 5-photo
     * limit counts the listing's photos, is checked before anything is stored and again under
     * the listing's lock in the storing transaction (concurrent uploads), and files written for
     * a refused request are deleted.
     */
    async upload(ctx: ActorCtx, listingId: string, files: AsyncIterable<Buffer>) {
      const partPath = (i: number) => `/body/file/${i}`
      const tooMany = (i: number) =>
        E.tooManyImages(MAX_IMAGES_PER_LISTING).with({
          errors: [{ path: partPath(i), message: `the listing would have more than ${MAX_IMAGES_PER_LISTING} photos` }],
        })
      // Cheap checks first, so a 6th photo or a stranger's listing costs no upload or image work.
      const existing = await spine.transaction(ctx, async (tx) => {
        await lockForEdit(tx, ctx.actor, listingId)
        const counted = await tx.db('listing_images').where('listing_id', listingId).count({ n: '*' }).first()
        return Number(counted?.n ?? 0)
      })
      if (existing >= MAX_IMAGES_PER_LISTING) throw tooMany(0)

      const encoded: EncodedImage[] = []
      for await (const file of files) {
        const i = encoded.length
        if (existing + i >= MAX_IMAGES_PER_LISTING) throw tooMany(i)
        try {
          encoded.push(await encodeImageVariants(file))
        } catch (err) {
          throw err instanceof AppError ? err.with({ errors: [{ path: partPath(i), message: err.message }] }) : err
        }
      }
      if (encoded.length === 0) throw invalidField('/body/file', 'send the photo as a multipart field named file')

      const ids = encoded.map(() => randomUUID())
      const stored = await Promise.allSettled(
        encoded.map((image, i) => storeVariants(ctx, blobs, `listings/${listingId}/${ids[i]}`, image)),
      )
      const uploads = stored.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
      try {
        const failed = stored.find((s): s is PromiseRejectedResult => s.status === 'rejected')
        if (failed) throw failed.reason
        const rows = await spine.transaction(ctx, async (tx) => {
          await lockForEdit(tx, ctx.actor, listingId)
          const { n, next }: { n: number; next: number } = await tx
            .db('listing_images')
            .where('listing_id', listingId)
            .first(tx.db.raw('count(*)::int as n'), tx.db.raw('coalesce(max(position) + 1, 0)::int as next'))
          // Lost a race with another upload: the first part that no longer fits is named.
          if (n + encoded.length > MAX_IMAGES_PER_LISTING) throw tooMany(Math.max(0, MAX_IMAGES_PER_LISTING - n))
          const inserted = await tx
            .db('listing_images')
            .insert(
              encoded.map((image, i) => ({
                id: ids[i]!,
                listing_id: listingId,
                position: next + i,
                width: image.width,
                height: image.height,
                variants: uploads[i]!.variants as ListingImageRow['variants'],
              })),
            )
            .returning('*')
          await blobDeletions.cancel(
            tx.db,
            uploads.flatMap((u) => u.intents),
          )
          await tx.db('listings').where('id', listingId).update({ updated_at: tx.db.fn.now() })
          return inserted.sort((a, b) => a.position - b.position)
        })
        return rows.map((row) => toImage(toJson(row), blobs))
      } catch (err) {
        // Whatever was written goes now (or, if storage is down, when the sweeper runs).
        await discardUploads(ctx, blobs, uploads)
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
