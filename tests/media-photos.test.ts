import { randomBytes } from 'node:crypto'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { FakeBlobApi } from './fakes/blob.js'
import { aUser } from './factories/users.js'
import { aPng, createListing, phoneJpeg, uploadPhoto } from './factories/catalogue.js'

process.env.VERCEL_BLOB_RETRIES = '0'

type Part = { field?: string; filename?: string; contentType?: string; data: Buffer }

/** A multipart/form-data body with the given parts, in order. */
function multipartOf(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----oja${randomBytes(8).toString('hex')}`
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${p.field ?? 'file'}"; filename="${p.filename ?? 'photo.jpg'}"\r\nContent-Type: ${p.contentType ?? 'image/jpeg'}\r\n\r\n`,
    ),
    p.data,
    Buffer.from('\r\n'),
  ])
  return {
    payload: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

async function uploadParts(app: OjaApp, token: string, listingId: string, parts: (Buffer | Part)[]) {
  const { payload, headers } = multipartOf(parts.map((p) => (Buffer.isBuffer(p) ? { data: p } : p)))
  const res = await app.inject({
    method: 'POST',
    url: `/v1/listings/${listingId}/images`,
    headers: { ...headers, authorization: `Bearer ${token}` },
    payload,
  })
  let json: Json = {}
  try {
    json = res.json() as Json
  } catch {
    // not JSON
  }
  return Object.assign(res, { json })
}

async function withBlobFake(t: Test) {
  const fake = await FakeBlobApi.start()
  t.teardown(() => fake.close())
  const app = await build(t, { BLOB_READ_WRITE_TOKEN: fake.token, VERCEL_BLOB_API_URL: fake.url })
  return { app, fake }
}

const count = async (app: OjaApp, table: string, where: Record<string, unknown> = {}) =>
  Number((await app.db(table).where(where).count({ n: '*' }).first())?.n)
const notAnImage = Buffer.from('just some text, honestly\n'.repeat(50))

void t.test('several file parts: 201 {items} in the order sent', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const widths = [410, 420, 430]
  const photos = await Promise.all(widths.map((width) => phoneJpeg({ width, height: 300 })))

  const res = await uploadParts(app, seller.accessToken, l.id, photos)
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.headers.location, `/v1/listings/${l.id}`)
  t.equal(res.json.items.length, 3)
  t.same(
    res.json.items.map((i: Json) => i.width),
    widths,
    'in the order of the parts',
  )
  t.same(
    res.json.items.map((i: Json) => i.position),
    [0, 1, 2],
  )
  t.equal(fake.blobs.size, 9, 'three variants each')
  t.equal(await count(app, 'blob_deletions'), 0, 'upload intents cancelled')
  const detail = await call(app, 'GET', `/v1/listings/${l.id}`)
  t.same(detail.json.images, res.json.items)

  // A later batch goes after the photos already there; one part still answers the photo itself.
  const two = await uploadParts(app, seller.accessToken, l.id, [await aPng(), await phoneJpeg()])
  t.equal(two.statusCode, 201)
  t.same(
    two.json.items.map((i: Json) => i.position),
    [3, 4],
  )
  const l2 = await createListing(app, seller)
  const single = await uploadParts(app, seller.accessToken, l2.id, [photos[0]!])
  t.equal(single.statusCode, 201)
  t.match(single.json, { id: String, url: String, position: 0, variants: { thumb: String } })
  t.notOk('items' in single.json, 'one part: the image object, as before')
})

void t.test('a refused part refuses the whole request and names it; nothing is stored', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const l = await createListing(app, seller)
  t.equal((await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg())).statusCode, 201)
  const before = { blobs: fake.blobs.size, puts: fake.requests.filter((r) => r.method === 'PUT').length }
  const jpeg = await phoneJpeg()

  const wrongType = await uploadParts(app, seller.accessToken, l.id, [
    jpeg,
    { data: notAnImage, filename: 'b.jpg' },
    jpeg,
  ])
  t.equal(wrongType.statusCode, 415)
  t.equal(wrongType.json.code, 'INVALID_IMAGE')
  t.same(
    wrongType.json.errors.map((e: Json) => e.path),
    ['/body/file/1'],
  )

  const gif = await sharp(await aPng())
    .gif()
    .toBuffer()
  const gifLast = await uploadParts(app, seller.accessToken, l.id, [jpeg, jpeg, { data: gif, filename: 'c.png' }])
  t.equal(gifLast.statusCode, 415, 'a GIF named .png')
  t.equal(gifLast.json.errors[0].path, '/body/file/2')

  const huge = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(11 * 1024 * 1024, 7)])
  const big = await uploadParts(app, seller.accessToken, l.id, [jpeg, jpeg, huge])
  t.equal(big.statusCode, 413)
  t.equal(big.json.code, 'PAYLOAD_TOO_LARGE')
  t.equal(big.json.errors[0].path, '/body/file/2')

  // The listing has 1 photo: parts 0..3 fit, part 4 would be the 6th.
  const over = await uploadParts(app, seller.accessToken, l.id, [jpeg, jpeg, jpeg, jpeg, jpeg])
  t.equal(over.statusCode, 409)
  t.equal(over.json.code, 'TOO_MANY_IMAGES')
  t.equal(over.json.errors[0].path, '/body/file/4')

  const sixParts = await uploadParts(app, seller.accessToken, l.id, Array(6).fill(jpeg))
  t.equal(sixParts.statusCode, 409)
  t.equal(sixParts.json.errors[0].path, '/body/file/4')

  const wrongField = await uploadParts(app, seller.accessToken, l.id, [jpeg, { data: jpeg, field: 'photo' }])
  t.equal(wrongField.statusCode, 400)
  t.equal(wrongField.json.code, 'VALIDATION_FAILED')

  const other = await uploadParts(app, stranger.accessToken, l.id, [jpeg, jpeg])
  t.equal(other.statusCode, 403, "another user's listing")

  t.equal(fake.blobs.size, before.blobs, 'no file stored')
  t.equal(fake.requests.filter((r) => r.method === 'PUT').length, before.puts, 'refused before any storage call')
  t.equal(await count(app, 'listing_images', { listing_id: l.id }), 1, 'no row')
  t.equal(await count(app, 'blob_deletions'), 0)

  // Storage fails on the 5th file (the second photo's medium): the first photo's files go too.
  fake.failNthPut(5)
  const broken = await uploadParts(app, seller.accessToken, l.id, [jpeg, jpeg])
  t.equal(broken.statusCode, 503)
  t.equal(broken.json.code, 'STORAGE_UNAVAILABLE')
  t.equal(fake.blobs.size, before.blobs, 'files written for the refused request were deleted')
  t.equal(await count(app, 'listing_images', { listing_id: l.id }), 1)
  t.equal(await count(app, 'blob_deletions'), 0)
})

void t.test('concurrent uploads to one listing never exceed 5 photos', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const photos = await Promise.all(Array.from({ length: 12 }, (_, i) => phoneJpeg({ width: 200 + i, height: 150 })))

  // Six requests of two photos each: only two can fit (2 + 2 = 4; a third would make 6).
  const pairs = await Promise.all(
    Array.from({ length: 6 }, (_, i) => uploadParts(app, seller.accessToken, l.id, photos.slice(2 * i, 2 * i + 2))),
  )
  t.same(pairs.map((r) => r.statusCode).sort(), [201, 201, 409, 409, 409, 409])
  t.ok(pairs.filter((r) => r.statusCode === 409).every((r) => r.json.code === 'TOO_MANY_IMAGES'))
  t.equal(await count(app, 'listing_images', { listing_id: l.id }), 4)
  t.equal(fake.blobs.size, 12, 'the losers deleted their files')

  // Then eight single photos at once for the one place left.
  const singles = await Promise.all(photos.slice(0, 8).map((p) => uploadParts(app, seller.accessToken, l.id, [p])))
  t.same(singles.map((r) => r.statusCode).sort(), [201, 409, 409, 409, 409, 409, 409, 409])
  const rows = await app.db('listing_images').where('listing_id', l.id).orderBy('position').select('position')
  t.same(
    rows.map((r) => r.position),
    [0, 1, 2, 3, 4],
  )
  t.equal(fake.blobs.size, 15)
  t.equal(await count(app, 'blob_deletions'), 0)
})
