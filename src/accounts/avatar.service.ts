import { randomUUID } from 'node:crypto'
import type { EventSpine } from '../events/index.js'
import { blobDeletions, discardUploads, encodeImageVariants, storeVariants, type BlobStore } from '../images/index.js'
import { isTxCtx, type Actor, type Ctx } from '../shared/index.js'
import type { Me } from './accounts.schemas.js'
import type { AccountsService } from './accounts.service.js'

type ActorCtx = Ctx & { actor: Actor }

/**
 * Profile pictures uploaded to Oja. The upload goes through the photo pipeline (checked by
 * content, EXIF stripped) and is stored as one square 320×320 WebP (the `thumb` variant) under
 * `avatars/<user>/<random>`; the user row keeps its pathname so the next upload, or a
 * PATCH /v1/me of `avatarUrl`, deletes it. The old files are entered in the blob outbox in the
 * transaction that replaces them and deleted after commit (or by the sweeper).
 */
export function createAvatarService({
  spine,
  blobs,
  accounts,
}: {
  spine: EventSpine
  blobs: BlobStore
  accounts: Pick<AccountsService, 'getMe'>
}) {
  return {
    /** Replaces the caller's avatar with the uploaded photo; answers the profile. */
    async replace(ctx: ActorCtx, readFile: () => Promise<Buffer>): Promise<Me> {
      const encoded = await encodeImageVariants(await readFile(), { only: ['thumb'] })
      const upload = await storeVariants(ctx, blobs, `avatars/${ctx.actor.id}/${randomUUID()}`, encoded)
      const stored = upload.variants.thumb!
      let outbox: number[]
      try {
        outbox = await spine.transaction(ctx, async (tx) => {
          // The row lock orders concurrent uploads: each one deletes the avatar it replaced.
          const user = await tx.db('users').where('id', ctx.actor.id).forUpdate().first('avatar_pathnames')
          await tx
            .db('users')
            .where('id', ctx.actor.id)
            .update({
              avatar_url: blobs.absoluteUrl(stored.url),
              avatar_pathnames: [stored.pathname],
              updated_at: tx.db.fn.now(),
            })
          await blobDeletions.cancel(tx.db, upload.intents)
          return blobDeletions.schedule(tx.db, user?.avatar_pathnames ?? [])
        })
      } catch (err) {
        await discardUploads(ctx, blobs, [upload])
        throw err
      }
      if (!isTxCtx(ctx)) await blobDeletions.runNow(ctx.db, blobs, outbox, ctx.log)
      return accounts.getMe(ctx)
    },
  }
}

export type AvatarService = ReturnType<typeof createAvatarService>
