import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { FakeBlobApi } from './fakes/blob.js'
import { aUser } from './factories/users.js'
import {
  aPng,
  createListing,
  exifHasGps,
  metadataOf,
  phoneJpeg,
  sendMultipart,
  uploadPhoto,
} from './factories/catalogue.js'

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
  const body = multipartOf(parts.map((p) => (Buffer.isBuffer(p) ? { data: p } : p)))
  return sendMultipart(app, 'POST', `/v1/listings/${listingId}/images`, token, body)
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

async function putAvatar(app: OjaApp, token: string | undefined, parts: (Buffer | Part)[]) {
  const body = multipartOf(parts.map((p) => (Buffer.isBuffer(p) ? { data: p } : p)))
  return sendMultipart(app, 'PUT', '/v1/me/avatar', token, body)
}

void t.test('PUT /v1/me/avatar: a clean square WebP, the old one deleted, the profile shows it', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const user = await aUser(app)
  const jpeg = await phoneJpeg({ width: 1200, height: 900, orientation: 6 })
  t.ok(exifHasGps((await sharp(jpeg).metadata()).exif), 'the upload carries GPS coordinates')

  const res = await putAvatar(app, user.accessToken, [jpeg])
  t.equal(res.statusCode, 200, res.body)
  const me = await call(app, 'GET', '/v1/me', { token: user.accessToken })
  t.same(res.json, me.json, 'the same shape and values as GET /v1/me')
  t.match(res.json.avatarUrl, new RegExp(`^${fake.url}/files/avatars/${user.id}/[0-9a-f-]+-thumb\\.webp$`))
  t.equal(fake.blobs.size, 1, 'one file: the square avatar')
  const file = await fetch(res.json.avatarUrl).then(async (r) => Buffer.from(await r.arrayBuffer()))
  const meta = await metadataOf(file)
  t.equal(meta.format, 'webp')
  t.same([meta.width, meta.height], [320, 320])
  t.equal(meta.exif, undefined, 'no EXIF')
  t.same(meta.rawMarkers, [], 'no metadata chunk in the file')
  const profile = await call(app, 'GET', `/v1/users/${user.id}`)
  t.equal(profile.json.avatarUrl, res.json.avatarUrl, 'the public profile shows it')

  const first = [...fake.blobs.keys()]
  const again = await putAvatar(app, user.accessToken, [await aPng()])
  t.equal(again.statusCode, 200)
  t.not(again.json.avatarUrl, res.json.avatarUrl)
  t.equal(fake.blobs.size, 1, 'the previous avatar was deleted')
  t.notOk(fake.blobs.has(first[0]!))
  t.equal(await count(app, 'blob_deletions'), 0)

  // Refusals: nothing stored, the avatar unchanged.
  const before = [...fake.blobs.keys()]
  const text = await putAvatar(app, user.accessToken, [{ data: notAnImage, filename: 'me.jpg' }])
  t.equal(text.statusCode, 415)
  t.equal(text.json.code, 'INVALID_IMAGE')
  const gif = await sharp(await aPng())
    .gif()
    .toBuffer()
  t.equal((await putAvatar(app, user.accessToken, [{ data: gif, filename: 'me.png' }])).statusCode, 415, 'GIF')
  const huge = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(11 * 1024 * 1024, 7)])
  const big = await putAvatar(app, user.accessToken, [huge])
  t.equal(big.statusCode, 413)
  t.equal(big.json.code, 'PAYLOAD_TOO_LARGE')
  t.equal((await putAvatar(app, user.accessToken, [{ data: jpeg, field: 'photo' }])).statusCode, 400, 'wrong field')
  t.equal((await putAvatar(app, undefined, [jpeg])).statusCode, 401)
  const json = await call(app, 'PUT', '/v1/me/avatar', { token: user.accessToken, body: { file: 'x' } })
  t.equal(json.statusCode, 415, 'JSON is not an upload')
  const { payload, headers } = multipartOf([{ data: jpeg }])
  const patchMultipart = await app.inject({
    method: 'PATCH',
    url: '/v1/me',
    headers: { ...headers, authorization: `Bearer ${user.accessToken}` },
    payload,
  })
  t.equal(patchMultipart.statusCode, 415, 'other account routes still take JSON only')
  t.same([...fake.blobs.keys()], before, 'no file stored by a refused upload')
  t.equal((await call(app, 'GET', '/v1/me', { token: user.accessToken })).json.avatarUrl, again.json.avatarUrl)
  t.equal(await count(app, 'blob_deletions'), 0)

  // Replaced by an outside URL: the uploaded file goes with the sweeper.
  const patched = await call(app, 'PATCH', '/v1/me', {
    token: user.accessToken,
    body: { avatarUrl: 'https://cdn.example.com/me.png' },
  })
  t.equal(patched.statusCode, 200)
  t.equal(await count(app, 'blob_deletions'), 1)
  app.sweeper.start()
  await app.sweeper.runOnce()
  await app.sweeper.stop()
  t.equal(fake.blobs.size, 0, 'the uploaded avatar was deleted')
})

void t.test('concurrent avatar uploads leave exactly one stored avatar', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const user = await aUser(app)
  const photos = await Promise.all(Array.from({ length: 6 }, (_, i) => phoneJpeg({ width: 300 + i, height: 200 })))
  const results = await Promise.all(photos.map((p) => putAvatar(app, user.accessToken, [p])))
  t.same(
    results.map((r) => r.statusCode),
    Array(6).fill(200),
  )
  const me = await call(app, 'GET', '/v1/me', { token: user.accessToken })
  t.equal(fake.blobs.size, 1, 'every replaced avatar was deleted')
  t.equal(me.json.avatarUrl, fake.fileUrl([...fake.blobs.keys()][0]!), 'the one left is the current avatar')
  t.equal(await count(app, 'blob_deletions'), 0)
})

void t.test('local disk: the avatar is served at /uploads/avatars/', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'oja-uploads-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await build(t, { UPLOADS_DIR: dir })
  const user = await aUser(app)
  const res = await putAvatar(app, user.accessToken, [await phoneJpeg()])
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json.avatarUrl, new RegExp(`^http://oja\\.test/uploads/avatars/${user.id}/[0-9a-f-]+-thumb\\.webp$`))
  const served = await app.inject({ method: 'GET', url: new URL(res.json.avatarUrl).pathname })
  t.equal(served.statusCode, 200)
  t.equal(served.headers['content-type'], 'image/webp')
  t.equal((await metadataOf(served.rawPayload)).exif, undefined)
  const again = await putAvatar(app, user.accessToken, [await aPng()])
  t.equal(again.statusCode, 200)
  t.same(readdirSync(path.join(dir, 'avatars', user.id)), [new URL(again.json.avatarUrl).pathname.split('/').pop()])
})
