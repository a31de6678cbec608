import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call } from './helpers/app.js'
import { FakeBlobApi } from './fakes/blob.js'
import { aUser, anAdmin } from './factories/users.js'
import {
  aPng,
  createListing,
  exifHasGps,
  metadataOf,
  multipart,
  phoneJpeg,
  uploadPhoto,
} from './factories/catalogue.js'

process.env.VERCEL_BLOB_RETRIES = '0'

async function withBlobFake(t: Test) {
  const fake = await FakeBlobApi.start()
  t.teardown(() => fake.close())
  const app = await build(t, { BLOB_READ_WRITE_TOKEN: fake.token, VERCEL_BLOB_API_URL: fake.url })
  return { app, fake }
}

const count = async (app: OjaApp, table: string, where: Record<string, unknown> = {}) =>
  Number((await app.db(table).where(where).count({ n: '*' }).first())?.n)
const fetchBytes = async (url: string) => {
  const res = await fetch(url)
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`)
  return Buffer.from(await res.arrayBuffer())
}

void t.test('a phone photo becomes three clean WebP variants in Vercel Blob', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const jpeg = await phoneJpeg({ width: 1200, height: 900, orientation: 6 })
  const source = await sharp(jpeg).metadata()
  t.ok(exifHasGps(source.exif), 'the upload carries GPS coordinates')
  t.equal(source.orientation, 6)

  const res = await uploadPhoto(app, seller.accessToken, l.id, jpeg, { filename: 'IMG_0001.JPG' })
  t.equal(res.statusCode, 201, res.body)
  t.match(res.json, {
    id: String,
    url: String,
    variants: { thumb: String, medium: String, large: String },
    width: 900,
    height: 1200,
    position: 0,
  })
  t.equal(res.json.url, res.json.variants.large)
  t.equal(fake.blobs.size, 3)
  for (const [name, url] of Object.entries(res.json.variants as Record<string, string>)) {
    t.ok(url.startsWith(`${fake.url}/files/listings/${l.id}/${res.json.id}-${name}.webp`), `${name} URL from the store`)
    const file = await fetchBytes(url)
    const meta = await metadataOf(file)
    t.equal(meta.format, 'webp', `${name} is WebP`)
    t.equal(meta.exif, undefined, `${name}: no EXIF`)
    t.notOk(exifHasGps(meta.exif), `${name}: no GPS`)
    t.equal(meta.xmp, undefined, `${name}: no XMP`)
    t.equal(meta.iptc, undefined, `${name}: no IPTC`)
    t.same(meta.rawMarkers, [], `${name}: no metadata chunk in the file`)
    t.notOk(meta.orientation && meta.orientation !== 1, `${name}: orientation applied, not tagged`)
    if (name === 'thumb') t.same([meta.width, meta.height], [320, 320])
    if (name === 'medium') t.same([meta.width, meta.height], [600, 800], 'portrait after applying orientation 6')
    if (name === 'large') t.same([meta.width, meta.height], [900, 1200], 'never enlarged')
    if (name === 'large') {
      // Orientation 6 turns the picture 90° clockwise: the left (red) half ends up on top.
      const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true })
      const px = (x: number, y: number) => {
        const o = (y * info.width + x) * info.channels
        return [data[o]!, data[o + 1]!, data[o + 2]!]
      }
      t.ok(px(450, 150)[0]! > 150 && px(450, 150)[2]! < 100, 'top is red')
      t.ok(px(450, 1050)[2]! > 150 && px(450, 1050)[0]! < 100, 'bottom is blue')
    }
  }
  const put = fake.requests.find((r) => r.method === 'PUT')!
  t.equal(put.headers.authorization, `Bearer ${fake.token}`)
  t.equal(put.headers['x-vercel-blob-store-id'], fake.storeId)
  t.ok(put.headers['x-api-version'])
  t.equal(put.headers['x-content-type'], 'image/webp')
  t.equal(put.headers['x-vercel-blob-access'], 'public')
  t.equal(put.headers['x-add-random-suffix'], '0')

  const detail = await call(app, 'GET', `/v1/listings/${l.id}`)
  t.same(detail.json.images, [res.json])
  const card = await call(app, 'GET', '/v1/listings')
  t.same(card.json.items[0].image, res.json, 'the first photo is the card image')
  t.equal(await count(app, 'blob_deletions'), 0, 'upload intents cancelled')

  t.equal(
    (await uploadPhoto(app, seller.accessToken, l.id, await aPng(), { filename: 'x.png', contentType: 'image/png' }))
      .statusCode,
    201,
    'PNG accepted',
  )
  const webp = await sharp(await aPng())
    .webp()
    .toBuffer()
  t.equal(
    (await uploadPhoto(app, seller.accessToken, l.id, webp, { filename: 'x.webp', contentType: 'image/webp' }))
      .statusCode,
    201,
    'WebP accepted',
  )
})

void t.test('refused uploads store nothing', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const l = await createListing(app, seller)
  const jpeg = await phoneJpeg()

  const text = await uploadPhoto(app, seller.accessToken, l.id, Buffer.from('just some text, honestly\n'.repeat(50)), {
    filename: 'holiday.jpg',
    contentType: 'image/jpeg',
  })
  t.equal(text.statusCode, 415)
  t.equal(text.json.code, 'INVALID_IMAGE')
  const truncated = await uploadPhoto(app, seller.accessToken, l.id, jpeg.subarray(0, 200))
  t.equal(truncated.statusCode, 415, 'a JPEG header on a broken file is refused')
  const gif = await sharp(await aPng())
    .gif()
    .toBuffer()
  t.equal(
    (await uploadPhoto(app, seller.accessToken, l.id, gif, { filename: 'a.jpg' })).statusCode,
    415,
    'GIF refused, whatever its name',
  )
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
  )
  t.equal(
    (await uploadPhoto(app, seller.accessToken, l.id, svg, { filename: 'a.png', contentType: 'image/png' })).statusCode,
    415,
    'SVG refused',
  )

  const huge = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(20 * 1024 * 1024, 7)])
  const big = await uploadPhoto(app, seller.accessToken, l.id, huge)
  t.equal(big.statusCode, 413)
  t.equal(big.json.code, 'PAYLOAD_TOO_LARGE')

  const other = await uploadPhoto(app, stranger.accessToken, l.id, jpeg)
  t.equal(other.statusCode, 403, "another user's listing")
  const anon = await app.inject({ method: 'POST', url: `/v1/listings/${l.id}/images`, ...multipart(jpeg) })
  t.equal(anon.statusCode, 401)
  const wrongField = await uploadPhoto(app, seller.accessToken, l.id, jpeg, { field: 'photo' })
  t.equal(wrongField.statusCode, 400)
  const json = await call(app, 'POST', `/v1/listings/${l.id}/images`, {
    token: seller.accessToken,
    body: { file: 'data:image/jpeg;base64,AAAA' },
  })
  t.equal(json.statusCode, 415, 'JSON is not an upload')
  const missing = await uploadPhoto(app, seller.accessToken, '00000000-0000-4000-8000-000000000000', jpeg)
  t.equal(missing.statusCode, 404)

  t.equal(fake.blobs.size, 0, 'no file stored')
  t.equal(fake.requests.filter((r) => r.method === 'PUT').length, 0, 'refused before any storage call')
  t.equal(await count(app, 'listing_images'), 0, 'no row')
  t.equal(await count(app, 'blob_deletions'), 0)
})

void t.test('at most 5 photos, even when 10 arrive at once', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const photos = await Promise.all(
    Array.from({ length: 10 }, (_, i) => phoneJpeg({ width: 200 + i * 10, height: 150 })),
  )
  const results = await Promise.all(photos.map((p) => uploadPhoto(app, seller.accessToken, l.id, p)))
  t.same(results.map((r) => r.statusCode).sort(), [201, 201, 201, 201, 201, 409, 409, 409, 409, 409])
  t.ok(results.filter((r) => r.statusCode === 409).every((r) => r.json.code === 'TOO_MANY_IMAGES'))
  const rows = await app.db('listing_images').where('listing_id', l.id).orderBy('position').select('position')
  t.same(
    rows.map((r) => r.position),
    [0, 1, 2, 3, 4],
  )
  t.equal(fake.blobs.size, 15, 'the losers deleted their files')
  t.equal(await count(app, 'blob_deletions'), 0)

  const sixth = await uploadPhoto(app, seller.accessToken, l.id, photos[0]!)
  t.equal(sixth.statusCode, 409, 'a 6th photo')
  t.equal(sixth.json.code, 'TOO_MANY_IMAGES')
  t.equal(fake.requests.filter((r) => r.method === 'PUT').length, 30, 'the 6th was refused before any upload')
})

void t.test('a storage failure midway leaves no row and no file', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  fake.failNthPut(2)
  const res = await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg())
  t.equal(res.statusCode, 503)
  t.equal(res.json.code, 'STORAGE_UNAVAILABLE')
  t.ok(res.headers['retry-after'])
  t.equal(await count(app, 'listing_images'), 0, 'no row')
  t.equal(fake.blobs.size, 0, 'the variants that did upload were deleted')
  t.equal(await count(app, 'blob_deletions'), 0)

  // Storage down for deletes too: the leftovers wait in the outbox until the sweeper runs.
  fake.failNthPut(3)
  fake.failDeletes = true
  const again = await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg())
  t.equal(again.statusCode, 503)
  t.equal(fake.blobs.size, 2, 'two files could not be deleted yet')
  t.equal(await count(app, 'blob_deletions'), 3, 'all three are in the outbox')
  t.equal(await count(app, 'listing_images'), 0)
  fake.failDeletes = false
  app.sweeper.start()
  const touched = await app.sweeper.runOnce()
  await app.sweeper.stop()
  t.equal(touched['blob-deletions'], 3)
  t.equal(fake.blobs.size, 0, 'the sweeper finished the job')
  t.equal(await count(app, 'blob_deletions'), 0)

  // A node that died between upload and insert: its intent comes due and the files go.
  await fake.blobs.set('listings/x/orphan-thumb.webp', {
    body: Buffer.from('x'),
    contentType: 'image/webp',
    access: 'public',
    uploadedAt: new Date(),
  })
  await app
    .db('blob_deletions')
    .insert({ pathname: 'listings/x/orphan-thumb.webp', due_at: app.db.raw("now() - interval '1 second'") })
  await app
    .db('blob_deletions')
    .insert({ pathname: 'listings/x/in-flight-thumb.webp', due_at: app.db.raw("now() + interval '1 hour'") })
  app.sweeper.start()
  await app.sweeper.runOnce()
  await app.sweeper.stop()
  t.equal(fake.blobs.size, 0, 'orphan deleted')
  t.equal(await count(app, 'blob_deletions'), 1, 'an upload still in flight is left alone')
})

void t.test('delete, reorder, and removal of the listing delete the files', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const admin = await anAdmin(app)
  const l = await createListing(app, seller)
  const ids: string[] = []
  for (let i = 0; i < 3; i++)
    ids.push((await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg({ width: 300 + i }))).json.id)
  t.equal(fake.blobs.size, 9)

  const reversed = [...ids].reverse()
  const reorder = await call(app, 'PUT', `/v1/listings/${l.id}/images/order`, {
    token: seller.accessToken,
    body: { imageIds: reversed },
  })
  t.equal(reorder.statusCode, 200)
  t.same(
    reorder.json.map((i: { id: string }) => i.id),
    reversed,
  )
  t.same(
    reorder.json.map((i: { position: number }) => i.position),
    [0, 1, 2],
  )
  t.same(
    (await call(app, 'GET', `/v1/listings/${l.id}`)).json.images.map((i: { id: string }) => i.id),
    reversed,
  )
  t.equal(
    (await call(app, 'GET', '/v1/listings')).json.items[0].image.id,
    reversed[0],
    'the new first photo is the cover',
  )
  const missingOne = await call(app, 'PUT', `/v1/listings/${l.id}/images/order`, {
    token: seller.accessToken,
    body: { imageIds: reversed.slice(1) },
  })
  t.equal(missingOne.statusCode, 400)
  t.equal(missingOne.json.code, 'IMAGE_ORDER_MISMATCH')
  const foreign = await call(app, 'PUT', `/v1/listings/${l.id}/images/order`, {
    token: seller.accessToken,
    body: { imageIds: [ids[0], ids[1], '00000000-0000-4000-8000-000000000000'] },
  })
  t.equal(foreign.json.code, 'IMAGE_ORDER_MISMATCH')
  t.equal(
    (
      await call(app, 'PUT', `/v1/listings/${l.id}/images/order`, {
        token: seller.accessToken,
        body: { imageIds: [ids[0], ids[0], ids[1]] },
      })
    ).statusCode,
    400,
    'duplicates',
  )
  t.equal(
    (
      await call(app, 'PUT', `/v1/listings/${l.id}/images/order`, {
        token: stranger.accessToken,
        body: { imageIds: reversed },
      })
    ).statusCode,
    403,
  )

  t.equal(
    (await call(app, 'DELETE', `/v1/listings/${l.id}/images/${ids[1]}`, { token: stranger.accessToken })).statusCode,
    403,
  )
  t.equal(
    (
      await call(app, 'DELETE', `/v1/listings/${l.id}/images/00000000-0000-4000-8000-000000000000`, {
        token: seller.accessToken,
      })
    ).statusCode,
    404,
  )
  const del = await call(app, 'DELETE', `/v1/listings/${l.id}/images/${ids[1]}`, { token: seller.accessToken })
  t.equal(del.statusCode, 204)
  t.equal(fake.blobs.size, 6)
  t.notOk(
    [...fake.blobs.keys()].some((k) => k.includes(ids[1]!)),
    "the photo's three files are gone",
  )
  t.same(
    (await call(app, 'GET', `/v1/listings/${l.id}`)).json.images.map((i: { id: string }) => i.id),
    [ids[2], ids[0]],
  )

  // Storage down during removal: the listing is removed anyway; files follow via the sweeper.
  fake.failDeletes = true
  const removed = await call(app, 'DELETE', `/v1/listings/${l.id}`, { token: admin.accessToken })
  t.equal(removed.statusCode, 204)
  t.equal(await count(app, 'listing_images', { listing_id: l.id }), 0)
  t.equal(fake.blobs.size, 6)
  t.equal(await count(app, 'blob_deletions'), 6)
  fake.failDeletes = false
  app.sweeper.start()
  await app.sweeper.runOnce()
  await app.sweeper.stop()
  t.equal(fake.blobs.size, 0, 'removing a listing deletes its files')

  const l2 = await createListing(app, seller)
  await uploadPhoto(app, seller.accessToken, l2.id, await phoneJpeg())
  t.equal(fake.blobs.size, 3)
  t.equal((await call(app, 'DELETE', `/v1/listings/${l2.id}`, { token: seller.accessToken })).statusCode, 204)
  t.equal(fake.blobs.size, 0, 'deleted right after commit when storage answers')
  const late = await uploadPhoto(app, seller.accessToken, l2.id, await phoneJpeg())
  t.equal(late.statusCode, 409)
  t.equal(late.json.code, 'LISTING_REMOVED')
})

void t.test('local disk driver: files under UPLOADS_DIR, served at /uploads/', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'oja-uploads-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const app = await build(t, { UPLOADS_DIR: dir })
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const res = await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg())
  t.equal(res.statusCode, 201)
  t.ok(res.json.variants.thumb.startsWith(`http://oja.test/uploads/listings/${l.id}/`), 'absolute URL from PUBLIC_URL')
  const files = readdirSync(path.join(dir, 'listings', l.id))
  t.equal(files.length, 3)
  t.notOk(files.some((f) => f.endsWith('.tmp')))
  const served = await app.inject({ method: 'GET', url: new URL(res.json.variants.medium).pathname })
  t.equal(served.statusCode, 200)
  t.equal(served.headers['content-type'], 'image/webp')
  t.equal(served.headers['cross-origin-resource-policy'], 'cross-origin', 'embeddable from the web app')
  t.match(String(served.headers['cache-control']), /immutable/)
  t.same((await metadataOf(served.rawPayload)).rawMarkers, [])
  t.equal((await metadataOf(served.rawPayload)).exif, undefined, 'no EXIF on disk either')
  for (const url of ['/uploads/../package.json', '/uploads/%2e%2e/package.json', '/uploads/listings/nope.webp']) {
    const r = await app.inject({ method: 'GET', url })
    t.ok([400, 403, 404].includes(r.statusCode), `${url} → ${r.statusCode}`)
  }
  t.equal(
    (await call(app, 'DELETE', `/v1/listings/${l.id}/images/${res.json.id}`, { token: seller.accessToken })).statusCode,
    204,
  )
  t.equal(readdirSync(path.join(dir, 'listings', l.id)).length, 0, 'files deleted from disk')
  t.notOk(existsSync(path.join(dir, 'listings', l.id, `${res.json.id}-thumb.webp`)))
})

void t.test("a removal inside a caller's transaction deletes files only after it commits", async (t) => {
  const { app, fake } = await withBlobFake(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  t.equal((await uploadPhoto(app, seller.accessToken, l.id, await phoneJpeg())).statusCode, 201)
  const actor = { id: seller.id, role: 'user' as const, sessionId: 'test' }
  const ctx = { db: app.db, actor, log: app.log }

  await t.rejects(
    app.spine.transaction(ctx, async (tx) => {
      await app.catalogue.listings.remove({ ...tx, actor }, l.id, { reason: 'moderation' })
      throw new Error('a later step of the caller failed')
    }),
  )
  t.equal(fake.blobs.size, 3, 'rolled back: the files are still there')
  t.equal((await app.db('listings').where('id', l.id).first('status'))!.status, 'active')
  t.equal(await count(app, 'listing_images', { listing_id: l.id }), 1)
  t.equal(await count(app, 'blob_deletions'), 0)

  await app.spine.transaction(ctx, (tx) =>
    app.catalogue.listings.remove({ ...tx, actor }, l.id, { reason: 'moderation' }),
  )
  t.equal(fake.blobs.size, 3, 'committed: the files wait for the sweeper')
  t.equal(await count(app, 'blob_deletions'), 3)
  app.sweeper.start()
  await app.sweeper.runOnce()
  await app.sweeper.stop()
  t.equal(fake.blobs.size, 0)
  t.equal(await count(app, 'blob_deletions'), 0)
})
