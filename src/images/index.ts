/** The public surface of src/images: other folders import from here, never from its files. */

/** The feature's plugin: the blob store (`app.blobs`), its deletion job, `/uploads/` serving. */
export { imagesFeature } from './images.feature.js'

/** The store photos live in, and its outbox of files to delete (written in the caller's transaction). */
export type { BlobStore, StoredBlob } from './blob-store.js'
export { blobDeletions } from './blob-deletions.js'
/** Pathnames under `private/` are stored private (chat photos): read back only through `BlobStore.read`. */
export { PRIVATE_PREFIX } from './blob-store.js'
/** Writing an encoded image's variants, guarded by the outbox until a row owns them. */
export { discardUploads, storeVariants, type PendingUpload, type StoredVariant } from './stored-variants.js'

/** Checking and re-encoding an upload. */
export { MAX_IMAGE_BYTES } from './image-limits.js'
export { encodeImageVariants, VARIANT_NAMES } from './image-variants.js'
export type { EncodedImage, VariantName } from './image-variants.js'

/** The error codes of uploads and storage. */
export { ImageErrors } from './images.errors.js'
