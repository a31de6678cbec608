/** The public surface of src/images: other folders import from here, never from its files. */

/** The feature's plugin: the blob store (`app.blobs`), its deletion job, `/uploads/` serving. */
export { imagesFeature } from './images.feature.js'

/** The store photos live in, and its outbox of files to delete (written in the caller's transaction). */
export type { BlobStore, StoredBlob } from './blob-store.js'
export { blobDeletions } from './blob-deletions.js'

/** Checking and re-encoding an upload. */
export { MAX_IMAGE_BYTES } from './image-limits.js'
export { encodeImageVariants } from './image-variants.js'
export type { VariantName } from './image-variants.js'

/** The error codes of uploads and storage. */
export { ImageErrors } from './images.errors.js'
