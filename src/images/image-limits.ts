/** The largest upload accepted (bytes). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024
/** Decoded size limit: a 10 MB file may still hold a decompression bomb. */
export const MAX_IMAGE_PIXELS = 50_000_000
