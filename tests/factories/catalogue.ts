import { randomBytes } from 'node:crypto'
import sharp from 'sharp'
import type { Knex } from 'knex'
import type { OjaApp } from '../../src/app.js'
import { call, type Json } from '../helpers/app.js'
import { categoryId } from './listings.js'
import type { SignedInUser } from './users.js'

/** A listing body the API accepts; override any field. */
export async function listingBody(db: Knex, overrides: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  return {
    title: 'Three-seater grey sofa',
    description: 'Grey fabric sofa, barely used, no stains',
    type: 'sale',
    price: 150_000_00,
    condition: 'good',
    categoryId: await categoryId(db, 'sofas-chairs'),
    location: { city: 'Lagos', state: 'Lagos', lat: 6.5244, lng: 3.3792 },
    ...overrides,
  }
}

/** Creates a listing through the API and returns its JSON. */
export async function createListing(
  app: OjaApp,
  user: SignedInUser,
  overrides: Record<string, unknown> = {},
): Promise<Json> {
  const res = await call(app, 'POST', '/v1/listings', {
    token: user.accessToken,
    body: await listingBody(app.db, overrides),
  })
  if (res.statusCode !== 201) throw new Error(`create listing failed: ${res.statusCode} ${res.body}`)
  return res.json
}

/** A multipart/form-data body with one file part. */
export function multipart(
  file: Buffer,
  opts: { field?: string; filename?: string; contentType?: string } = {},
): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----oja${randomBytes(8).toString('hex')}`
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${opts.field ?? 'file'}"; filename="${opts.filename ?? 'photo.jpg'}"\r\nContent-Type: ${opts.contentType ?? 'image/jpeg'}\r\n\r\n`,
  )
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return {
    payload: Buffer.concat([head, file, tail]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

/** Uploads a photo through the API; returns the response with parsed JSON. */
export async function uploadPhoto(
  app: OjaApp,
  token: string,
  listingId: string,
  file: Buffer,
  opts: { field?: string; filename?: string; contentType?: string } = {},
) {
  return sendMultipart(app, 'POST', `/v1/listings/${listingId}/images`, token, multipart(file, opts))
}

/** Sends a multipart body (as `token`'s holder, or anonymously) and parses a JSON answer. */
export async function sendMultipart(
  app: Pick<OjaApp, 'inject'>,
  method: 'POST' | 'PUT',
  url: string,
  token: string | undefined,
  body: { payload: Buffer; headers: Record<string, string> },
) {
  const res = await app.inject({
    method,
    url,
    headers: { ...body.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    payload: body.payload,
  })
  let json: Json = {}
  try {
    json = res.json() as Json
  } catch {
    // not JSON
  }
  return Object.assign(res, { json })
}

/**
 * A JPEG like a phone makes: EXIF with camera make, GPS coordinates (Lagos) and an
 * orientation tag (6 = the pixels are stored rotated; viewers turn them 90° clockwise).
 */
export async function phoneJpeg(
  opts: { width?: number; height?: number; orientation?: number; gps?: boolean } = {},
): Promise<Buffer> {
  const width = opts.width ?? 640
  const height = opts.height ?? 480
  // Left half red, right half blue, so orientation can be checked from the pixels.
  const left = await sharp({
    create: { width: Math.floor(width / 2), height, channels: 3, background: { r: 220, g: 20, b: 20 } },
  })
    .png()
    .toBuffer()
  let img = sharp({ create: { width, height, channels: 3, background: { r: 20, g: 20, b: 220 } } })
    .composite([{ input: left, left: 0, top: 0 }])
    .jpeg({ quality: 90 })
  const exif: Record<string, Record<string, string>> = { IFD0: { Make: 'OjaPhone', Model: 'Test 1' } }
  if (opts.gps !== false)
    exif.IFD3 = {
      GPSLatitudeRef: 'N',
      GPSLatitude: '6/1 31/1 2784/100',
      GPSLongitudeRef: 'E',
      GPSLongitude: '3/1 22/1 4512/100',
    }
  img = img.withExif(exif)
  if (opts.orientation) img = img.withMetadata({ orientation: opts.orientation })
  return img.toBuffer()
}

export async function aPng(width = 300, height = 200): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 160, b: 80, alpha: 1 } } })
    .png()
    .toBuffer()
}

/** The TIFF structure inside an EXIF block: does IFD0 point to a GPS IFD (tag 0x8825)? */
export function exifHasGps(exif: Buffer | undefined): boolean {
  if (!exif) return false
  let tiff = exif
  if (tiff.toString('latin1', 0, 4) === 'Exif') tiff = tiff.subarray(6)
  const le = tiff.toString('latin1', 0, 2) === 'II'
  const u16 = (o: number) => (le ? tiff.readUInt16LE(o) : tiff.readUInt16BE(o))
  const u32 = (o: number) => (le ? tiff.readUInt32LE(o) : tiff.readUInt32BE(o))
  const ifd0 = u32(4)
  const entries = u16(ifd0)
  for (let i = 0; i < entries; i++) if (u16(ifd0 + 2 + i * 12) === 0x8825) return true
  return false
}

/** Everything a stored file could carry metadata in: sharp's view plus the raw container. */
export async function metadataOf(file: Buffer) {
  const meta = await sharp(file).metadata()
  return {
    format: meta.format,
    width: meta.width,
    height: meta.height,
    exif: meta.exif,
    xmp: meta.xmp,
    iptc: meta.iptc,
    orientation: meta.orientation,
    // A WebP keeps metadata in EXIF / XMP chunks; a JPEG in an APP1 "Exif" segment.
    rawMarkers: ['EXIF', 'Exif', 'XMP '].filter((m) => file.includes(Buffer.from(m, 'latin1'))),
  }
}
