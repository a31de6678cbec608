import { defineError } from '../shared/index.js'
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from './image-limits.js'

/** The error codes of photo uploads and file storage. */
export const ImageErrors = {
  /** The blob store failed or did not answer; the client may retry shortly. */
  storageUnavailable: defineError(
    'STORAGE_UNAVAILABLE',
    503,
    'File storage is not answering; try again shortly',
    () => ({
      headers: { 'retry-after': '5' },
    }),
  ),
  /** Not a JPEG, PNG or WebP by content, or one that cannot be decoded. */
  invalidImage: defineError(
    'INVALID_IMAGE',
    415,
    (detail: string = 'The file is not a JPEG, PNG or WebP image') => detail,
  ),
  imageTooLarge: defineError(
    'IMAGE_TOO_LARGE',
    413,
    `The image is too large (max ${MAX_IMAGE_BYTES / 1024 / 1024} MB, ${MAX_IMAGE_PIXELS / 1_000_000} megapixels)`,
  ),
}
