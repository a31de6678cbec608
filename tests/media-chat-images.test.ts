import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import sharp from 'sharp'
import t, { type Test } from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call } from './helpers/app.js'
import { FakeBlobApi } from './fakes/blob.js'
import { aUser, anAdmin } from './factories/users.js'
import { aConversation, aMessage } from './factories/chat.js'
import { aPng, metadataOf, phoneJpeg, sendMultipart } from './factories/catalogue.js'
import { connect, startNodes } from './helpers/nodes.js'

process.env.VERCEL_BLOB_RETRIES = '0'

type Part = { field: string; data: Buffer | string; filename?: string; contentType?: string }

/** A multipart/form-data body of the given parts (files when they carry a filename). */
function multipartOf(parts: Part[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = `----oja${randomBytes(8).toString('hex')}`
  const chunks = parts.flatMap((p) => [
    Buffer.from(
      p.filename
        ? `--${boundary}\r\nContent-Disposition: form-data; name="${p.field}"; filename="${p.filename}"\r\nContent-Type: ${p.contentType ?? 'image/jpeg'}\r\n\r\n`
        : `--${boundary}\r\nContent-Disposition: form-data; name="${p.field}"\r\n\r\n`,
    ),
    Buffer.isBuffer(p.data) ? p.data : Buffer.from(p.data),
    Buffer.from('\r\n'),
  ])
  return {
    payload: Buffer.concat([...chunks, Buffer.from(`--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  }
}

const photo = (data: Buffer, filename = 'photo.jpg'): Part => ({ field: 'file', data, filename })

async function sendImage(
  app: Pick<OjaApp, 'inject'>,
  token: string | undefined,
  conversationId: string,
  parts: Part[],
) {
  return sendMultipart(app, 'POST', `/v1/conversations/${conversationId}/images`, token, multipartOf(parts))
}

/** GETs an image URL of a message through the app (the URL's path), as `token`'s holder. */
const getFile = (app: Pick<OjaApp, 'inject'>, url: string, token?: string) =>
  app.inject({
    method: 'GET',
    url: new URL(url).pathname,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })

async function withBlobFake(t: Test, env: Record<string, unknown> = {}) {
  const fake = await FakeBlobApi.start()
  t.teardown(() => fake.close())
  const app = await build(t, {
    BLOB_READ_WRITE_TOKEN: fake.token,
    BLOB_PRIVATE_READ_WRITE_TOKEN: fake.privateToken,
    VERCEL_BLOB_API_URL: fake.url,
    ...env,
  })
  return { app, fake }
}

const count = async (app: Pick<OjaApp, 'db'>, table: string, where: Record<string, unknown> = {}) =>
  Number(
    (
      await (app.db as OjaApp['db'])(table as 'messages')
        .where(where)
        .count({ n: '*' })
        .first()
    )?.n,
  )

void t.test('a photo message: both participants get it live and in the list; the files are private', async (t) => {
  const fake = await FakeBlobApi.start()
  t.teardown(() => fake.close())
  const {
    nodes: [node],
  } = await startNodes(t, 1, () => ({
    env: {
      BLOB_READ_WRITE_TOKEN: fake.token,
      BLOB_PRIVATE_READ_WRITE_TOKEN: fake.privateToken,
      VERCEL_BLOB_API_URL: fake.url,
    },
  }))
  const app = node!.app
  const { buyer, seller, conversation } = await aConversation(app)
  const buyerPhone = await connect(t, node!, { token: buyer.accessToken })
  const sellerPhone = await connect(t, node!, { token: seller.accessToken })
  const sellerLaptop = await connect(t, node!, { token: seller.accessToken })

  const jpeg = await phoneJpeg({ width: 1200, height: 900, orientation: 6 })
  const res = await sendImage(app, buyer.accessToken, conversation.id, [
    { field: 'clientId', data: 'photo-1' },
    photo(jpeg),
    { field: 'caption', data: 'The scratch on the left arm' },
  ])
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.headers.location, `/v1/conversations/${conversation.id}/messages`)
  const message = res.json
  t.match(message, {
    conversationId: conversation.id,
    senderId: buyer.id,
    kind: 'image',
    body: 'The scratch on the left arm',
    clientId: 'photo-1',
    readAt: null,
    image: {
      id: String,
      url: String,
      width: 900,
      height: 1200,
      variants: { thumb: String, medium: String, large: String },
    },
  })
  const base = `http://oja.test/v1/conversations/${conversation.id}/images/${message.image.id}`
  t.same(message.image.variants, { thumb: `${base}/thumb`, medium: `${base}/medium`, large: `${base}/large` })
  t.equal(message.image.url, message.image.variants.large)

  for (const [name, client] of [
    ['the seller’s phone', sellerPhone],
    ['the seller’s laptop', sellerLaptop],
    ['the sender’s own device', buyerPhone],
  ] as const) {
    const got = await client.recorder.next('message:new', (m) => m.id === message.id)
    t.same(got.payload.data, message, `${name} gets message:new`)
  }

  const list = await call(app, 'GET', `/v1/conversations/${conversation.id}/messages`, { token: seller.accessToken })
  t.equal(list.statusCode, 200)
  t.same(list.json.items[0], message, 'listed in the conversation, newest first')
  const convs = await call(app, 'GET', '/v1/conversations', { token: seller.accessToken })
  t.same(convs.json.items[0].lastMessage, message)
  t.equal(convs.json.items[0].unreadCount, 1)

  // The files: private in the store, served by Oja to the participants only.
  t.equal(fake.blobs.size, 3)
  for (const [pathname, blob] of fake.blobs) {
    t.match(pathname, new RegExp(`^private/chat/${conversation.id}/${message.image.id}-(thumb|medium|large)\\.webp$`))
    t.equal(blob.access, 'private', `${pathname} stored private`)
    const direct = await fetch(fake.fileUrl(pathname))
    t.equal(direct.status, 403, 'the store itself refuses a reader without the token')
    const publicToken = await fetch(fake.fileUrl(pathname), { headers: { authorization: `Bearer ${fake.token}` } })
    t.equal(publicToken.status, 403, 'nor the public store’s token: it is in the private store')
  }
  for (const variant of ['thumb', 'medium', 'large'] as const) {
    for (const [who, token] of [
      ['seller', seller.accessToken],
      ['buyer', buyer.accessToken],
    ] as const) {
      const file = await getFile(app, message.image.variants[variant], token)
      t.equal(file.statusCode, 200, `${who} loads ${variant}`)
      t.equal(file.headers['content-type'], 'image/webp')
      t.match(String(file.headers['cache-control']), /^private/)
      const meta = await metadataOf(file.rawPayload)
      t.equal(meta.format, 'webp')
      t.equal(meta.exif, undefined, `${variant}: no EXIF`)
      t.same(meta.rawMarkers, [], `${variant}: no metadata chunk`)
      if (variant === 'thumb') t.same([meta.width, meta.height], [320, 320])
    }
  }
})

void t.test('a non-participant gets 404 on the route and cannot fetch the files', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const outsider = await aUser(app)
  const admin = await anAdmin(app)
  const sent = await sendImage(app, seller.accessToken, conversation.id, [photo(await phoneJpeg())])
  t.equal(sent.statusCode, 201, 'the seller side may send photos too')
  const stored = fake.blobs.size

  const stranger = await sendImage(app, outsider.accessToken, conversation.id, [photo(await phoneJpeg())])
  t.equal(stranger.statusCode, 404)
  t.equal(stranger.json.code, 'CONVERSATION_NOT_FOUND')
  const missing = await sendImage(app, buyer.accessToken, '00000000-0000-4000-8000-000000000000', [
    photo(await phoneJpeg()),
  ])
  t.equal(missing.statusCode, 404)
  t.equal((await sendImage(app, undefined, conversation.id, [photo(await phoneJpeg())])).statusCode, 401)
  t.equal(fake.blobs.size, stored, 'nothing stored for them')

  for (const url of Object.values(sent.json.image.variants as Record<string, string>)) {
    const asOutsider = await getFile(app, url, outsider.accessToken)
    t.equal(asOutsider.statusCode, 404, 'another user: 404')
    t.equal(asOutsider.json().code, 'CONVERSATION_NOT_FOUND')
    t.equal((await getFile(app, url, admin.accessToken)).statusCode, 404, 'an admin is not a participant either')
    t.equal((await getFile(app, url)).statusCode, 401, 'anonymous: 401')
    t.equal((await getFile(app, url, buyer.accessToken)).statusCode, 200, 'the buyer: 200')
  }
  // The right image id under another conversation of the outsider's: still nothing.
  const { conversation: own } = await aConversation(app, { buyer: outsider })
  const elsewhere = await app.inject({
    method: 'GET',
    url: `/v1/conversations/${own.id}/images/${sent.json.image.id}/large`,
    headers: { authorization: `Bearer ${outsider.accessToken}` },
  })
  t.equal(elsewhere.statusCode, 404)
  t.equal(elsewhere.json().code, 'IMAGE_NOT_FOUND')
  const badVariant = await app.inject({
    method: 'GET',
    url: `/v1/conversations/${conversation.id}/images/${sent.json.image.id}/original`,
    headers: { authorization: `Bearer ${buyer.accessToken}` },
  })
  t.equal(badVariant.statusCode, 400)
  const list = await call(app, 'GET', `/v1/conversations/${conversation.id}/messages`, {
    token: outsider.accessToken,
  })
  t.equal(list.statusCode, 404, 'nor can they list it')
})

void t.test('refused photos store nothing', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const { buyer, conversation } = await aConversation(app)
  const jpeg = await phoneJpeg()
  const id = conversation.id

  const text = await sendImage(app, buyer.accessToken, id, [
    photo(Buffer.from('just some text, honestly\n'.repeat(50)), 'a.jpg'),
  ])
  t.equal(text.statusCode, 415)
  t.equal(text.json.code, 'INVALID_IMAGE')
  const gif = await sharp(await aPng())
    .gif()
    .toBuffer()
  t.equal((await sendImage(app, buyer.accessToken, id, [photo(gif, 'a.png')])).statusCode, 415, 'GIF')
  const huge = Buffer.concat([jpeg.subarray(0, 3), Buffer.alloc(11 * 1024 * 1024, 7)])
  const big = await sendImage(app, buyer.accessToken, id, [photo(huge)])
  t.equal(big.statusCode, 413)
  t.equal(big.json.code, 'PAYLOAD_TOO_LARGE')
  const none = await sendImage(app, buyer.accessToken, id, [{ field: 'caption', data: 'no photo' }])
  t.equal(none.statusCode, 400)
  t.equal(none.json.errors[0].path, '/body/file')
  const two = await sendImage(app, buyer.accessToken, id, [photo(jpeg), photo(jpeg)])
  t.ok([400, 413].includes(two.statusCode), `two files: ${two.statusCode}`)
  const unknown = await sendImage(app, buyer.accessToken, id, [photo(jpeg), { field: 'body', data: 'hi' }])
  t.equal(unknown.statusCode, 400)
  const badClientId = await sendImage(app, buyer.accessToken, id, [
    photo(jpeg),
    { field: 'clientId', data: 'no spaces!' },
  ])
  t.equal(badClientId.statusCode, 400)
  t.equal(badClientId.json.errors[0].path, '/body/clientId')
  const blankCaption = await sendImage(app, buyer.accessToken, id, [photo(jpeg), { field: 'caption', data: '   ' }])
  t.equal(blankCaption.statusCode, 400)
  const json = await call(app, 'POST', `/v1/conversations/${id}/images`, {
    token: buyer.accessToken,
    body: { file: 'data:image/jpeg;base64,AAAA' },
  })
  t.equal(json.statusCode, 415, 'JSON is not an upload')
  const { payload, headers } = multipartOf([{ field: 'body', data: 'hello' }])
  const textAsMultipart = await app.inject({
    method: 'POST',
    url: `/v1/conversations/${id}/messages`,
    headers: { ...headers, authorization: `Bearer ${buyer.accessToken}` },
    payload,
  })
  t.equal(textAsMultipart.statusCode, 415, 'the text route still takes JSON only')

  // Storage failing midway: no message, and what was written is deleted.
  fake.failNthPut(2)
  const broken = await sendImage(app, buyer.accessToken, id, [photo(jpeg)])
  t.equal(broken.statusCode, 503)
  t.equal(broken.json.code, 'STORAGE_UNAVAILABLE')

  t.equal(fake.blobs.size, 0, 'no file stored')
  t.equal(await count(app, 'messages', { conversation_id: id }), 0, 'no message')
  t.equal(await count(app, 'blob_deletions'), 0)
})

void t.test('clientId: a resend returns the first message, even many at once', async (t) => {
  const { app, fake } = await withBlobFake(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const id = conversation.id
  const first = await sendImage(app, buyer.accessToken, id, [
    photo(await phoneJpeg()),
    { field: 'clientId', data: 'p-1' },
  ])
  t.equal(first.statusCode, 201)
  const again = await sendImage(app, buyer.accessToken, id, [
    { field: 'clientId', data: 'p-1' },
    photo(await phoneJpeg({ width: 300 })),
  ])
  t.equal(again.statusCode, 200, 'a resend answers 200')
  t.same(again.json, first.json, 'with the original')
  t.equal(fake.blobs.size, 3, 'the resend stored nothing')

  const otherCaption = await sendImage(app, buyer.accessToken, id, [
    photo(await phoneJpeg()),
    { field: 'clientId', data: 'p-1' },
    { field: 'caption', data: 'another caption' },
  ])
  t.equal(otherCaption.statusCode, 409)
  t.equal(otherCaption.json.code, 'CLIENT_ID_REUSED')
  await aMessage(app, buyer, id, 'text first', 't-1')
  const textId = await sendImage(app, buyer.accessToken, id, [
    photo(await phoneJpeg()),
    { field: 'clientId', data: 't-1' },
  ])
  t.equal(textId.statusCode, 409, "a text message's clientId")
  const sellerSame = await sendImage(app, seller.accessToken, id, [
    photo(await phoneJpeg()),
    { field: 'clientId', data: 'p-1' },
  ])
  t.equal(sellerSame.statusCode, 201, 'clientIds are per sender')

  // Eight devices resend the same new photo at once: one message, one set of files.
  const before = fake.blobs.size
  const jpeg = await phoneJpeg({ width: 500 })
  const burst = await Promise.all(
    Array.from({ length: 8 }, () =>
      sendImage(app, buyer.accessToken, id, [photo(jpeg), { field: 'clientId', data: 'p-burst' }]),
    ),
  )
  t.equal(burst.filter((r) => r.statusCode === 201).length, 1, 'one created')
  t.equal(burst.filter((r) => r.statusCode === 200).length, 7, 'the others answered with it')
  t.equal(new Set(burst.map((r) => r.json.id)).size, 1, 'all the same message')
  t.equal(await count(app, 'messages', { conversation_id: id, client_id: 'p-burst' }), 1)
  t.equal(fake.blobs.size, before + 3, "the losers' files were deleted")
  t.equal(await count(app, 'blob_deletions'), 0)
})

void t.test('blocks, bans and the send allowance apply to photos as to text', async (t) => {
  const { app, fake } = await withBlobFake(t, { RATE_LIMIT_SCALE: 1 })
  const { buyer, seller, conversation } = await aConversation(app)
  const jpeg = await phoneJpeg()

  t.equal((await call(app, 'PUT', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode, 204)
  const blocked = await sendImage(app, buyer.accessToken, conversation.id, [photo(jpeg)])
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json.code, 'BLOCKED')
  const blocker = await sendImage(app, seller.accessToken, conversation.id, [photo(jpeg)])
  t.equal(blocker.statusCode, 403, 'either way')
  t.equal((await call(app, 'DELETE', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode, 204)

  // 20 sends per 10 s, shared with text: the blocked attempt + 18 texts + 1 photo, then 429.
  for (let i = 0; i < 18; i++) await aMessage(app, buyer, conversation.id, `message ${i}`)
  const last = await sendImage(app, buyer.accessToken, conversation.id, [photo(jpeg)])
  t.equal(last.statusCode, 201, 'the 20th send')
  const limited = await sendImage(app, buyer.accessToken, conversation.id, [photo(jpeg)])
  t.equal(limited.statusCode, 429)
  t.equal(limited.json.code, 'RATE_LIMITED')
  t.ok(limited.headers['retry-after'])
  t.equal(fake.blobs.size, 3, 'only the accepted photo is stored')

  const admin = await anAdmin(app)
  const ban = await call(app, 'POST', `/v1/admin/users/${seller.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'spam' },
  })
  t.equal(ban.statusCode, 200, ban.body)
  const banned = await sendImage(app, seller.accessToken, conversation.id, [photo(jpeg)])
  t.ok([401, 403].includes(banned.statusCode), `a banned user: ${banned.statusCode}`)
  t.equal(fake.blobs.size, 3)
})

void t.test('local disk: chat photos live outside the served /uploads/ tree', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'oja-uploads-'))
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true })
    rmSync(`${dir}-private`, { recursive: true, force: true })
  })
  const app = await build(t, { UPLOADS_DIR: dir })
  const { buyer, seller, conversation } = await aConversation(app)
  const outsider = await aUser(app)
  const res = await sendImage(app, buyer.accessToken, conversation.id, [photo(await phoneJpeg())])
  t.equal(res.statusCode, 201, res.body)
  const files = readdirSync(path.join(`${dir}-private`, 'chat', conversation.id))
  t.same(
    files.sort(),
    ['large', 'medium', 'thumb'].map((v) => `${res.json.image.id}-${v}.webp`),
  )
  t.notOk(existsSync(path.join(dir, 'chat')), 'nothing under the public tree')
  for (const guess of [
    `/uploads/chat/${conversation.id}/${files[0]}`,
    `/uploads/private/chat/${conversation.id}/${files[0]}`,
    `/uploads/../${path.basename(dir)}-private/chat/${conversation.id}/${files[0]}`,
  ]) {
    const r = await app.inject({ method: 'GET', url: guess })
    t.ok([400, 403, 404].includes(r.statusCode), `${guess} → ${r.statusCode}`)
  }
  const ok = await getFile(app, res.json.image.variants.medium, seller.accessToken)
  t.equal(ok.statusCode, 200)
  t.equal((await metadataOf(ok.rawPayload)).format, 'webp')
  t.equal((await getFile(app, res.json.image.variants.medium, outsider.accessToken)).statusCode, 404)
})

void t.test('Vercel Blob without a private store: unguessable keys, still served by Oja only', async (t) => {
  const { app, fake } = await withBlobFake(t, { BLOB_PRIVATE_READ_WRITE_TOKEN: undefined })
  const { buyer, seller, conversation } = await aConversation(app)
  const outsider = await aUser(app)
  const res = await sendImage(app, buyer.accessToken, conversation.id, [photo(await phoneJpeg())])
  t.equal(res.statusCode, 201, res.body)
  t.equal(fake.blobs.size, 3)
  for (const [pathname, blob] of fake.blobs) {
    t.match(pathname, new RegExp(`^private/chat/${conversation.id}/${res.json.image.id}-`), 'a random key')
    t.equal(blob.access, 'public', 'in the public store (the fallback)')
  }
  t.notMatch(JSON.stringify(res.json), fake.url, "the store's URLs are never given to clients")
  t.equal((await getFile(app, res.json.image.url, seller.accessToken)).statusCode, 200)
  t.equal((await getFile(app, res.json.image.url, outsider.accessToken)).statusCode, 404)
})
