import sharp, { type Metadata, type Sharp } from 'sharp'
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from './image-limits.js'
import { ImageErrors } from './images.errors.js'

export const VARIANT_NAMES = ['thumb', 'medium', 'large'] as const
export type VariantName = (typeof VARIANT_NAMES)[number]

type VariantSpec = { name: VariantName; width: number; height: number; fit: 'cover' | 'inside'; quality: number }
const SPECS: VariantSpec[] = [
  { name: 'thumb', width: 320, height: 320, fit: 'cover', quality: 70 },
  { name: 'medium', width: 800, height: 800, fit: 'inside', quality: 80 },
  { name: 'large', width: 1600, height: 1600, fit: 'inside', quality: 82 },
]

export type EncodedVariant = { name: VariantName; data: Buffer; width: number; height: number }
export type EncodedImage = { width: number; height: number; variants: EncodedVariant[] }

const { invalidImage: InvalidImage, imageTooLarge: ImageTooLarge } = ImageErrors

/** The format by the file's first bytes (magic numbers); names and declared types are ignored. */
export function sniffImageFormat(buf: Buffer): 'jpeg' | 'png' | 'webp' | undefined {
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) return 'jpeg'
  if (buf.length >= 8 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'png'
  if (buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP')
    return 'webp'
  return undefined
}

/**
 * Checks an upload by content and re-encodes it into the three WebP variants. The EXIF
 * orientation is applied to the pixels; every metadata block (EXIF with GPS, XMP, IPTC, ICC)
 * is dropped, because sharp writes none unless asked and we never ask. `only` makes just
 * the named variants (an avatar needs the square thumb alone).
 */
export async function encodeImageVariants(
  input: Buffer,
  opts: { only?: readonly VariantName[] } = {},
): Promise<EncodedImage> {
  if (input.length > MAX_IMAGE_BYTES) throw ImageTooLarge()
  const sniffed = sniffImageFormat(input)
  if (!sniffed) throw InvalidImage()
  let base: Sharp
  let meta: Metadata
  try {
    base = sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error', pages: 1 })
    meta = await base.metadata()
  } catch (err) {
    if (/pixel limit/i.test(String((err as Error).message))) throw ImageTooLarge()
    throw InvalidImage()
  }
  if (meta.format !== sniffed || !meta.width || !meta.height) throw InvalidImage()
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) throw ImageTooLarge()
  const oriented = base.autoOrient()
  try {
    const specs = opts.only ? SPECS.filter((s) => opts.only!.includes(s.name)) : SPECS
    const variants = await Promise.all(
      specs.map(async (spec) => {
        const { data, info } = await oriented
          .clone()
          .resize({ width: spec.width, height: spec.height, fit: spec.fit, withoutEnlargement: spec.fit === 'inside' })
          .webp({ quality: spec.quality, effort: 4 })
          .toBuffer({ resolveWithObject: true })
        return { name: spec.name, data, width: info.width, height: info.height }
      }),
    )
    const swap = (meta.orientation ?? 1) >= 5
    return { width: swap ? meta.height : meta.width, height: swap ? meta.width : meta.height, variants }
  } catch (err) {
    if (/pixel limit/i.test(String((err as Error).message))) throw ImageTooLarge()
    throw InvalidImage('The image could not be decoded')
  }
}
