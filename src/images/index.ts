/** The public surface of src/images: other folders import from here, never from its files. */

export { blobDeletionJob, blobDeletions } from './blob-deletions.js'
export { LocalBlobStore, createBlobStore } from './blob-store.js'
export type { BlobStore } from './blob-store.js'
export { MAX_IMAGE_BYTES, encodeImageVariants } from './image-variants.js'
