import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { listingBody } from './factories/catalogue.js'
import { aConversation } from './factories/chat.js'
import { aShipment } from './factories/trust.js'
import { etagOf, noneMatch } from '../src/http/index.js'

void t.test('If-None-Match: weak comparison, lists and *', async (t) => {
  const tag = etagOf('{"a":1}')
  t.match(tag, /^"[\w-]{22}"$/)
  t.ok(noneMatch(tag, tag))
  t.ok(noneMatch(`W/${tag}`, tag), 'a weak copy of the tag matches')
  t.ok(noneMatch(`"other", ${tag}`, tag), 'one of a list')
  t.ok(noneMatch('*', tag))
  t.notOk(noneMatch('"other"', tag))
  t.notOk(noneMatch(undefined, tag))
})

void t.test('public reads carry an ETag and answer a matching If-None-Match with 304', async (t) => {
  const app = await build(t)
  const seller = await aUser(app, { name: 'Ada Seller' })
  const created = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: await listingBody(app.db),
  })
  t.equal(created.statusCode, 201)
  const url = `/v1/listings/${created.json.id}`

  const first = await call(app, 'GET', url)
  t.equal(first.statusCode, 200)
  const etag = first.headers.etag as string
  t.match(etag, /^"[\w-]+"$/, 'a strong ETag')
  t.equal(first.headers['cache-control'], 'public, max-age=0, must-revalidate')
  t.match(first.headers.vary, /Authorization/)

  const again = await call(app, 'GET', url, { headers: { 'if-none-match': etag } })
  t.equal(again.statusCode, 304)
  t.equal(again.body, '', 'no body')
  t.equal(again.headers.etag, etag)
  t.equal((await call(app, 'GET', url, { headers: { 'if-none-match': `W/${etag}` } })).statusCode, 304, 'weak match')
  t.equal((await call(app, 'GET', url, { headers: { 'if-none-match': '"stale"' } })).statusCode, 200)

  const edited = await call(app, 'PATCH', url, { token: seller.accessToken, body: { title: 'A new title' } })
  t.equal(edited.statusCode, 200)
  const changed = await call(app, 'GET', url, { headers: { 'if-none-match': etag } })
  t.equal(changed.statusCode, 200, 'the edit changed the listing')
  t.not(changed.headers.etag, etag)
  t.equal(changed.json.title, 'A new title')

  // Signed in, the answer may show the reader more (their own draft, isFavourite): private, not stored.
  const mine = await call(app, 'GET', url, { token: seller.accessToken })
  t.equal(mine.headers['cache-control'], 'private, no-store')
  t.ok(mine.headers.etag)
  t.equal(
    (
      await call(app, 'GET', url, {
        token: seller.accessToken,
        headers: { 'if-none-match': mine.headers.etag as string },
      })
    ).statusCode,
    304,
  )

  const head = await app.inject({ method: 'HEAD', url, headers: { 'if-none-match': changed.headers.etag as string } })
  t.equal(head.statusCode, 304, 'HEAD too')

  // A 404 is not tagged.
  const missing = await call(app, 'GET', '/v1/listings/00000000-0000-4000-8000-000000000000')
  t.equal(missing.statusCode, 404)
  t.notOk(missing.headers.etag)

  // Categories: the same for everyone, cached five minutes.
  const cats = await call(app, 'GET', '/v1/categories')
  t.equal(cats.statusCode, 200)
  t.equal(cats.headers['cache-control'], 'public, max-age=300, must-revalidate')
  t.equal(
    (await call(app, 'GET', '/v1/categories', { headers: { 'if-none-match': cats.headers.etag as string } }))
      .statusCode,
    304,
  )
  const catsSignedIn = await call(app, 'GET', '/v1/categories', { token: seller.accessToken })
  t.equal(catsSignedIn.headers['cache-control'], 'public, max-age=300, must-revalidate')
  t.equal(catsSignedIn.headers.etag, cats.headers.etag)

  // Profiles and reviews.
  for (const path of [`/v1/users/${seller.id}`, `/v1/users/${seller.id}/reviews`, `${url}/reviews`]) {
    const res = await call(app, 'GET', path)
    t.equal(res.statusCode, 200, path)
    t.ok(res.headers.etag, `${path} has an ETag`)
    const not = await call(app, 'GET', path, { headers: { 'if-none-match': res.headers.etag as string } })
    t.equal(not.statusCode, 304, `${path} answers 304`)
  }

  // Other reads are not tagged.
  t.notOk((await call(app, 'GET', '/v1/listings')).headers.etag)
})

void t.test('POST /v1/listings honours Idempotency-Key', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const body = await listingBody(app.db, { title: 'One sofa only' })
  const count = async () =>
    Number((await app.db('listings').where({ seller_id: seller.id }).count({ n: '*' }).first())?.n)

  const first = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body,
    headers: { 'idempotency-key': 'listing-1' },
  })
  t.equal(first.statusCode, 201)
  t.equal(first.headers.location, `/v1/listings/${first.json.id}`)
  const retry = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body,
    headers: { 'idempotency-key': 'listing-1' },
  })
  t.equal(retry.statusCode, 201)
  t.equal(retry.body, first.body, 'the first listing, byte for byte')
  t.equal(retry.headers.location, first.headers.location)
  t.equal(retry.headers['idempotent-replayed'], 'true')
  t.equal(await count(), 1)

  const reused = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: { ...body, title: 'Another sofa' },
    headers: { 'idempotency-key': 'listing-1' },
  })
  t.equal(reused.statusCode, 409)
  t.equal(reused.json.code, 'IDEMPOTENCY_KEY_REUSED')
  t.equal(await count(), 1)

  // Ten at once with one key: one listing, ten identical answers.
  const parallel = await Promise.all(
    Array.from({ length: 10 }, () =>
      call(app, 'POST', '/v1/listings', {
        token: seller.accessToken,
        body: { ...body, title: 'Parallel sofa' },
        headers: { 'idempotency-key': 'listing-parallel' },
      }),
    ),
  )
  t.same(
    parallel.map((r) => r.statusCode),
    Array(10).fill(201),
  )
  t.equal(new Set(parallel.map((r) => r.json.id)).size, 1, 'one listing id')
  t.equal(await count(), 2)

  // Without a key, two creates are two listings.
  await call(app, 'POST', '/v1/listings', { token: seller.accessToken, body })
  await call(app, 'POST', '/v1/listings', { token: seller.accessToken, body })
  t.equal(await count(), 4)
})

void t.test('every 201 carries Location; creating POSTs replay with a key', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const { buyer, conversation, listing } = await aConversation(app)
  t.equal(conversation.id !== undefined, true)

  const post = (url: string, token: string, body: unknown, key?: string) =>
    call(app, 'POST', url, { token, body, ...(key ? { headers: { 'idempotency-key': key } } : {}) })
  const cases: Array<{
    url: string
    token: string
    body: unknown
    location: (json: Record<string, unknown>) => string
  }> = [
    {
      url: '/v1/listings',
      token: buyer.accessToken,
      body: await listingBody(app.db),
      location: (j) => `/v1/listings/${String(j.id)}`,
    },
    {
      url: `/v1/listings/${listing.id}/reports`,
      token: buyer.accessToken,
      body: { reason: 'scam' },
      location: () => `/v1/listings/${listing.id}`,
    },
    {
      url: '/v1/wants',
      token: buyer.accessToken,
      body: { title: 'A blue bicycle' },
      location: (j) => `/v1/wants/${String(j.id)}`,
    },
    {
      url: `/v1/conversations/${conversation.id}/messages`,
      token: buyer.accessToken,
      body: { body: 'Still there?' },
      location: () => `/v1/conversations/${conversation.id}/messages`,
    },
    {
      url: `/v1/conversations/${conversation.id}/offers`,
      token: buyer.accessToken,
      body: { amount: 1000 },
      location: (j) => `/v1/offers/${String(j.id)}`,
    },
    {
      url: '/v1/admin/coupons',
      token: admin.accessToken,
      body: { code: 'HELLO10', type: 'percent', value: 10 },
      location: (j) => `/v1/admin/coupons/${String(j.id)}`,
    },
    {
      url: '/v1/admin/categories',
      token: admin.accessToken,
      body: { name: 'Kites', slug: 'kites' },
      location: () => '/v1/admin/categories',
    },
    {
      url: '/v1/me/addresses',
      token: buyer.accessToken,
      body: { fullName: 'Ada Obi', phone: '+2348012345678', line1: '1 Marina', city: 'Lagos', state: 'Lagos' },
      location: (j) => `/v1/me/addresses/${String(j.id)}`,
    },
  ]
  for (const c of cases) {
    const res = await post(c.url, c.token, c.body, `key-${c.url}`)
    t.equal(res.statusCode, 201, `${c.url}: ${res.body}`)
    t.equal(res.headers.location, c.location(res.json), `${c.url} Location`)
    const replay = await post(c.url, c.token, c.body, `key-${c.url}`)
    t.equal(replay.statusCode, 201, `${c.url} replayed`)
    t.equal(replay.headers['idempotent-replayed'], 'true', `${c.url} replayed`)
    t.equal(replay.body, res.body)
    t.equal(replay.headers.location, res.headers.location)
  }

  // Opening a conversation: 201 with Location when new.
  const other = await aUser(app)
  const opened = await post('/v1/conversations', other.accessToken, { listingId: listing.id })
  t.equal(opened.statusCode, 201)
  t.equal(opened.headers.location, `/v1/conversations/${opened.json.id}`)

  // Registering names the new public profile.
  const registered = await call(app, 'POST', '/v1/auth/register', {
    body: { email: `loc-${Date.now()}@test.oja`, password: 'correct horse battery staple', name: 'Located' },
  })
  t.equal(registered.statusCode, 201)
  t.equal(registered.headers.location, `/v1/users/${registered.json.user.id}`)
})

void t.test('a choice of values: one error naming the allowed values', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const res = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: await listingBody(app.db, { condition: 'mint' }),
  })
  t.equal(res.statusCode, 400)
  t.equal(res.json.code, 'VALIDATION_FAILED')
  t.same(res.json.errors, [{ path: '/body/condition', message: 'must be one of: new, like_new, good, fair' }])
  t.match(res.json.detail, '/body/condition: must be one of: new, like_new, good, fair')

  const query = await call(app, 'GET', '/v1/listings?sort=cheapest')
  t.equal(query.statusCode, 400)
  t.same(query.json.errors, [
    { path: '/querystring/sort', message: 'must be one of: newest, price_asc, price_desc, relevance, distance' },
  ])
})

void t.test('reviews and their flags: Location and replays', async (t) => {
  const app = await build(t)
  const [buyer, seller, reader] = [await aUser(app), await aUser(app), await aUser(app)]
  const { shipmentId } = await aShipment(app.db, buyer.id, seller.id)
  const review = (key: string) =>
    call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
      token: buyer.accessToken,
      body: { rating: 5, body: 'As described' },
      headers: { 'idempotency-key': key },
    })
  const created = await review('review-1')
  t.equal(created.statusCode, 201, created.body)
  t.equal(created.headers.location, `/v1/users/${seller.id}/reviews`)
  const again = await review('review-1')
  t.equal(again.statusCode, 201, 'replayed, not 409 already reviewed')
  t.equal(again.body, created.body)

  const flag = () =>
    call(app, 'POST', `/v1/reviews/${created.json.id}/flags`, {
      token: reader.accessToken,
      body: { reason: 'rude' },
      headers: { 'idempotency-key': 'flag-1' },
    })
  const flagged = await flag()
  t.equal(flagged.statusCode, 201, flagged.body)
  t.equal(flagged.headers.location, `/v1/reviews/${created.json.id}/flags`)
  const flaggedAgain = await flag()
  t.equal(flaggedAgain.body, flagged.body)
  t.equal(flaggedAgain.headers['idempotent-replayed'], 'true')
})
