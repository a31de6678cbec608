import { randomUUID } from 'node:crypto'
import {
  blobDeletions,
  discardUploads,
  encodeImageVariants,
  PRIVATE_PREFIX,
  storeVariants,
  VARIANT_NAMES,
  type BlobStore,
  type StoredVariant,
  type VariantName,
} from '../images/index.js'
import { ChatErrors } from './chat.errors.js'
import type { Message } from './chat.schemas.js'
import { participantConversation, type ActorCtx, type ChatService } from './chat.service.js'
import type { MessageImageRow } from './chat.tables.js'

/** A photo message as the multipart request carries it. */
export type ImageUpload = { file: Buffer; clientId?: string; caption?: string }

/**
 * Photo messages. The photo goes through the listing photos' pipeline (checked by content,
 * EXIF stripped, three WebP variants) and is stored *private*, under
 * `private/chat/<conversation>/<random id>` (a private Vercel Blob, or a local directory that is
 * not served). Clients load it from Oja's own URL, which answers only the conversation's two
 * participants: nobody else can read the files, whatever URL they learn.
 */
export function createChatImagesService({
  chat,
  blobs,
  publicUrl,
}: {
  chat: ChatService
  blobs: BlobStore
  publicUrl: string
}) {
  const urlOf = (conversationId: string, imageId: string, variant: VariantName) =>
    `${publicUrl}/v1/conversations/${conversationId}/images/${imageId}/${variant}`
  const replayOr = (original: Message, upload: ImageUpload) => {
    if (original.kind !== 'image' || original.body !== (upload.caption ?? '')) throw ChatErrors.clientIdReused()
    return { created: false, message: original }
  }

  return {
    /**
     * Sends a photo message. `readUpload` reads the request; it is called only once the
     * cheap checks passed (allowance, participant, blocks). A resend with a clientId already
     * used answers the original (created: false) and stores nothing.
     */
    async send(
      ctx: ActorCtx,
      conversationId: string,
      readUpload: () => Promise<ImageUpload>,
    ): Promise<{ created: boolean; message: Message }> {
      await chat.checkSend(ctx, conversationId)
      const upload = await readUpload()
      if (upload.clientId) {
        const original = await chat.findSent(ctx, conversationId, upload.clientId)
        if (original) return replayOr(original, upload)
      }
      const encoded = await encodeImageVariants(upload.file)
      const imageId = randomUUID()
      const pending = await storeVariants(ctx, blobs, `${PRIVATE_PREFIX}chat/${conversationId}/${imageId}`, encoded)
      const image: MessageImageRow = {
        id: imageId,
        width: encoded.width,
        height: encoded.height,
        variants: pending.variants as Record<VariantName, StoredVariant>,
        urls: Object.fromEntries(VARIANT_NAMES.map((v) => [v, urlOf(conversationId, imageId, v)])) as Record<
          VariantName,
          string
        >,
      }
      try {
        const sent = await chat.sendImage(
          ctx,
          conversationId,
          { caption: upload.caption ?? '', image, clientId: upload.clientId },
          (tx) => blobDeletions.cancel(tx.db, pending.intents),
        )
        // A resend that raced the original: the original stands, this upload's files go.
        if (!sent.created) await discardUploads(ctx, blobs, [pending])
        return sent
      } catch (err) {
        await discardUploads(ctx, blobs, [pending])
        throw err
      }
    },

    /** The bytes of a photo's variant, for a participant of its conversation (else 404). */
    async file(ctx: ActorCtx, conversationId: string, imageId: string, variant: VariantName): Promise<Buffer> {
      await participantConversation(ctx.db, conversationId, ctx.actor.id)
      const row = await ctx
        .db('messages')
        .where('conversation_id', conversationId)
        .whereRaw("image->>'id' = ?", [imageId])
        .first('image')
      const stored = row?.image?.variants[variant]
      const bytes = stored ? await blobs.read(stored) : null
      if (!bytes) throw ChatErrors.imageNotFound()
      return bytes
    },
  }
}

export type ChatImagesService = ReturnType<typeof createChatImagesService>
