import type { FastifyBaseLogger } from 'fastify'
import type { Db } from '../db/index.js'
import { blobDeletions } from './blob-deletions.js'
import type { BlobStore } from './blob-store.js'
import type { EncodedImage, VariantName } from './image-variants.js'

/** One stored variant of an image, as the rows that own images keep it. */
export type StoredVariant = { pathname: string; url: string; width: number; height: number; bytes: number }

/** An upload's files in the store, not yet owned by a row. */
export type PendingUpload = {
  variants: Partial<Record<VariantName, StoredVariant>>
  /** Outbox rows that delete the files unless the storing transaction cancels them. */
  intents: number[]
}

/** How long an upload may take before its files count as orphans for the sweeper. */
const UPLOAD_GRACE_SECONDS = 3600

/**
 * Writes the encoded variants of one image as `<base>-<variant>.webp`. The files are entered
 * in the blob outbox before they are written, so whatever happens next (a refusal, a storage
 * error, a crash) they are deleted unless the transaction that stores their row cancels the
 * intents (`blobDeletions.cancel(tx, upload.intents)`). On a storage error what was written is
 * deleted at once (or by the sweeper) and the error is thrown.
 */
export async function storeVariants(
  ctx: { db: Db; log: FastifyBaseLogger },
  blobs: BlobStore,
  base: string,
  encoded: EncodedImage,
): Promise<PendingUpload> {
  const pathnames = encoded.variants.map((v) => `${base}-${v.name}.webp`)
  const intents = await blobDeletions.schedule(ctx.db, pathnames, UPLOAD_GRACE_SECONDS)
  const stored = await Promise.allSettled(
    encoded.variants.map((v, i) => blobs.put(pathnames[i]!, v.data, 'image/webp')),
  )
  const failed = stored.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed) {
    await discardUploads(ctx, blobs, [{ variants: {}, intents }])
    throw failed.reason
  }
  const variants = Object.fromEntries(
    encoded.variants.map((v, i) => {
      const blob = (stored[i] as PromiseFulfilledResult<{ pathname: string; url: string }>).value
      return [
        v.name,
        { pathname: blob.pathname, url: blob.url, width: v.width, height: v.height, bytes: v.data.length },
      ]
    }),
  )
  return { variants, intents }
}

/** Deletes the files of uploads that no row took (now, or by the sweeper when storage is down). */
export async function discardUploads(
  ctx: { db: Db; log: FastifyBaseLogger },
  blobs: BlobStore,
  uploads: PendingUpload[],
): Promise<void> {
  const intents = uploads.flatMap((u) => u.intents)
  await blobDeletions.dueNow(ctx.db, intents)
  await blobDeletions.runNow(ctx.db, blobs, intents, ctx.log)
}
