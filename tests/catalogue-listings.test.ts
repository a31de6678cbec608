import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { categoryId } from './factories/listings.js'
import { createListing, listingBody } from './factories/catalogue.js'
import { seedDemo } from '../seeds/demo.js'

void t.test('create, read, edit, remove: the happy path', async (t) => {
  const app = await build(t)
  const seller = await aUser(app, { name: 'Ada Seller' })
  const body = await listingBody(app.db, { title: '  Three-seater   grey sofa ', quantity: 2 })
  const created = await call(app, 'POST', '/v1/listings', { token: seller.accessToken, body })
  t.equal(created.statusCode, 201)
  const l = created.json
  t.match(l, {
    sellerId: seller.id,
    seller: { id: seller.id, name: 'Ada Seller', avatarUrl: null },
    title: 'Three-seater grey sofa',
    type: 'sale',
    price: 150_000_00,
    currency: 'NGN',
    condition: 'good',
    status: 'active',
    quantity: 2,
    soldQuantity: 0,
    availableQuantity: 2,
    location: { city: 'Lagos', state: 'Lagos', lat: 6.5244, lng: 3.3792 },
    images: [],
    isFavourite: false,
  })
  t.ok(l.publishedAt, 'published at once')

  const anon = await call(app, 'GET', `/v1/listings/${l.id}`)
  t.equal(anon.statusCode, 200)
  t.notOk('isFavourite' in anon.json, 'no isFavourite for anonymous readers')

  const edited = await call(app, 'PATCH', `/v1/listings/${l.id}`, {
    token: seller.accessToken,
    body: { title: 'Grey sofa, three seats', condition: 'fair', location: null },
  })
  t.equal(edited.statusCode, 200)
  t.equal(edited.json.title, 'Grey sofa, three seats')
  t.equal(edited.json.condition, 'fair')
  t.equal(edited.json.location, null)
  t.ok(new Date(edited.json.updatedAt) >= new Date(l.updatedAt))

  const removed = await call(app, 'DELETE', `/v1/listings/${l.id}`, { token: seller.accessToken })
  t.equal(removed.statusCode, 204)
  t.equal((await call(app, 'GET', `/v1/listings/${l.id}`)).statusCode, 404, 'removed listings are gone for the public')
  const own = await call(app, 'GET', `/v1/listings/${l.id}`, { token: seller.accessToken })
  t.equal(own.json.status, 'removed', 'the seller still sees it')
  t.equal(
    (await call(app, 'DELETE', `/v1/listings/${l.id}`, { token: seller.accessToken })).statusCode,
    204,
    'removing twice is a no-op',
  )
  const again = await call(app, 'PATCH', `/v1/listings/${l.id}`, {
    token: seller.accessToken,
    body: { title: 'Back again' },
  })
  t.equal(again.statusCode, 409)
  t.equal(again.json.code, 'LISTING_REMOVED')
})

void t.test('prices: negative, fractional, giveaways with a price, sales without one', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const cases: [Record<string, unknown>, string][] = [
    [{ price: -100 }, '/body/price'],
    [{ price: 1500.5 }, '/body/price'],
    [{ price: '12.50' }, '/body/price'],
    [{ price: 0 }, '/body/price'],
    [{ price: undefined }, '/body/price'],
    [{ type: 'giveaway', price: 5000 }, '/body/price'],
    [{ price: 1e13 }, '/body/price'],
    [{ currency: 'USD' }, '/body/currency'],
    [{ title: '   ' }, '/body/title'],
    [{ title: 'ab' }, '/body/title'],
    [{ condition: 'broken' }, '/body/condition'],
    [{ categoryId: '00000000-0000-4000-8000-000000000000' }, '/body/categoryId'],
    [{ quantity: 0 }, '/body/quantity'],
    [{ quantity: 1.5 }, '/body/quantity'],
    [{ location: { city: 'Lagos', state: 'Lagos', lat: 6.5 } }, '/body/location'],
    [{ location: { city: 'Lagos', state: 'Lagos', lat: 95, lng: 3 } }, '/body/location/lat'],
    [{ sellerId: seller.id }, '/body/sellerId'],
    [{ status: 'active' }, '/body/status'],
  ]
  for (const [override, path] of cases) {
    const res = await call(app, 'POST', '/v1/listings', {
      token: seller.accessToken,
      body: await listingBody(app.db, override),
    })
    t.equal(res.statusCode, 400, `${JSON.stringify(override)} → 400`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
    t.ok(
      res.json.errors?.some((e: { path: string }) => e.path === path),
      `names ${path}: ${JSON.stringify(res.json.errors)}`,
    )
  }
  t.equal(Number((await app.db('listings').count({ n: '*' }).first())?.n), 0, 'nothing was stored')

  const give = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: await listingBody(app.db, { type: 'giveaway', price: undefined }),
  })
  t.equal(give.statusCode, 201)
  t.equal(give.json.price, 0, 'a giveaway costs 0')
  const giveZero = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: await listingBody(app.db, { type: 'giveaway', price: 0 }),
  })
  t.equal(giveZero.statusCode, 201)

  // Edits keep the same rules.
  const sale = await createListing(app, seller)
  const toGiveaway = await call(app, 'PATCH', `/v1/listings/${sale.id}`, {
    token: seller.accessToken,
    body: { type: 'giveaway' },
  })
  t.equal(toGiveaway.statusCode, 200)
  t.equal(toGiveaway.json.price, 0, 'turning a sale into a giveaway zeroes its price')
  const backNoPrice = await call(app, 'PATCH', `/v1/listings/${sale.id}`, {
    token: seller.accessToken,
    body: { type: 'sale' },
  })
  t.equal(backNoPrice.statusCode, 400, 'a sale needs a price')
  const pricedGiveaway = await call(app, 'PATCH', `/v1/listings/${sale.id}`, {
    token: seller.accessToken,
    body: { price: 100 },
  })
  t.equal(pricedGiveaway.statusCode, 400, 'a giveaway cannot get a price')
  const negative = await call(app, 'PATCH', `/v1/listings/${sale.id}`, {
    token: seller.accessToken,
    body: { type: 'sale', price: -1 },
  })
  t.equal(negative.statusCode, 400)
  const ok = await call(app, 'PATCH', `/v1/listings/${sale.id}`, {
    token: seller.accessToken,
    body: { type: 'sale', price: 99_00 },
  })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json.price, 99_00)
  const empty = await call(app, 'PATCH', `/v1/listings/${sale.id}`, { token: seller.accessToken, body: {} })
  t.equal(empty.statusCode, 400, 'an empty patch is refused')
})

void t.test('rights: strangers, admins, anonymous callers', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const admin = await anAdmin(app)
  const l = await createListing(app, seller)
  const draft = await createListing(app, seller, { draft: true })

  t.equal((await call(app, 'POST', '/v1/listings', { body: await listingBody(app.db) })).statusCode, 401)
  const patch = await call(app, 'PATCH', `/v1/listings/${l.id}`, { token: stranger.accessToken, body: { price: 1 } })
  t.equal(patch.statusCode, 403)
  t.equal(patch.json.code, 'FORBIDDEN')
  t.equal((await call(app, 'DELETE', `/v1/listings/${l.id}`, { token: stranger.accessToken })).statusCode, 403)
  t.equal(
    (await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: stranger.accessToken, body: { price: 1 } }))
      .statusCode,
    404,
    "another user's draft does not exist for a stranger",
  )
  t.equal((await call(app, 'GET', `/v1/listings/${draft.id}`, { token: stranger.accessToken })).statusCode, 404)
  t.equal((await call(app, 'GET', `/v1/listings/${draft.id}`)).statusCode, 404)
  t.equal(
    (await call(app, 'GET', `/v1/listings/${draft.id}`, { token: admin.accessToken })).statusCode,
    200,
    'admins see drafts',
  )
  t.equal(
    (await call(app, 'PATCH', `/v1/listings/${l.id}`, { token: admin.accessToken, body: { price: 1 } })).statusCode,
    403,
    'admins remove, they do not edit',
  )
  t.equal((await call(app, 'GET', '/v1/listings/not-a-uuid')).statusCode, 400)
  t.equal((await call(app, 'GET', '/v1/listings/00000000-0000-4000-8000-000000000000')).statusCode, 404)
  t.equal((await app.db('listings').where('id', l.id).first('price'))!.price, 150_000_00, 'price unchanged')

  const byAdmin = await call(app, 'DELETE', `/v1/listings/${l.id}`, { token: admin.accessToken })
  t.equal(byAdmin.statusCode, 204)
  const row = await app.db('listings').where('id', l.id).first('status', 'removed_reason')
  t.same(row, { status: 'removed', removed_reason: 'Removed by a moderator' })
  const auditRow = await app
    .db('audit_log')
    .where({ target_id: l.id, action: 'admin.listing_removed' })
    .first('actor_id')
  t.equal(auditRow?.actor_id, admin.id, 'admin removal audited')
  const note = await app.db('notifications').where({ user_id: seller.id, type: 'listing_removed' }).first('data')
  t.same(note?.data, { listingId: l.id, reason: 'Removed by a moderator' }, 'the seller is told')
})

void t.test('lifecycle: drafts, publishing, sold out, restock, quantity floor', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const draft = await createListing(app, seller, { draft: true, quantity: 3 })
  t.equal(draft.status, 'draft')
  t.equal(draft.publishedAt, null)
  const published = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { status: 'active' },
  })
  t.equal(published.json.status, 'active')
  t.ok(published.json.publishedAt)
  const unpublished = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { status: 'draft' },
  })
  t.equal(unpublished.json.status, 'draft')
  t.equal(unpublished.json.publishedAt, published.json.publishedAt, 'publication time is kept')
  await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: seller.accessToken, body: { status: 'active' } })

  // Two sold (commerce does this), one held by a live reservation, one expired reservation.
  await app.db('listings').where('id', draft.id).update({ sold_quantity: 1 })
  await app.db('reservations').insert([
    { listing_id: draft.id, buyer_id: buyer.id, quantity: 1, expires_at: app.db.raw("now() + interval '10 minutes'") },
    { listing_id: draft.id, buyer_id: buyer.id, quantity: 1, expires_at: app.db.raw("now() - interval '1 minute'") },
  ])
  const read = await call(app, 'GET', `/v1/listings/${draft.id}`)
  t.equal(read.json.availableQuantity, 1, '3 − 1 sold − 1 live reservation (the expired one does not count)')
  const below = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { quantity: 1 },
  })
  t.equal(below.statusCode, 409)
  t.equal(below.json.code, 'QUANTITY_BELOW_COMMITTED')
  const floor = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { quantity: 2 },
  })
  t.equal(floor.statusCode, 200)
  t.equal(floor.json.availableQuantity, 0)

  // Every unit sold: the listing is sold; a restock relists it.
  await app.db('reservations').where('listing_id', draft.id).delete()
  await app.db('listings').where('id', draft.id).update({ sold_quantity: 2, status: 'sold' })
  const relistNoStock = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { status: 'active' },
  })
  t.equal(relistNoStock.statusCode, 409)
  t.equal(relistNoStock.json.code, 'LISTING_SOLD_OUT')
  const toDraft = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { status: 'draft' },
  })
  t.equal(toDraft.json.code, 'INVALID_STATUS_TRANSITION')
  const restock = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { quantity: 5 },
  })
  t.equal(restock.json.status, 'active')
  t.equal(restock.json.availableQuantity, 3)
  const sellOut = await call(app, 'PATCH', `/v1/listings/${draft.id}`, {
    token: seller.accessToken,
    body: { quantity: 2 },
  })
  t.equal(sellOut.json.status, 'sold', 'lowering the quantity to what was sold closes it')
  t.equal(
    (await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: seller.accessToken, body: { status: 'removed' } }))
      .statusCode,
    400,
    'removal goes through DELETE',
  )
})

void t.test('GET /v1/me/listings pages through every status', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const other = await aUser(app)
  const ids: string[] = []
  for (let i = 0; i < 7; i++)
    ids.push((await createListing(app, seller, { draft: i % 2 === 0, title: `Item number ${i}` })).id)
  await createListing(app, other)
  const seen: string[] = []
  let cursor: string | undefined
  do {
    const res = await call(app, 'GET', `/v1/me/listings?limit=3${cursor ? `&cursor=${cursor}` : ''}`, {
      token: seller.accessToken,
    })
    t.equal(res.statusCode, 200)
    seen.push(...res.json.items.map((i: { id: string }) => i.id))
    cursor = res.json.nextCursor ?? undefined
  } while (cursor)
  t.same(seen, [...ids].reverse(), 'newest first, each once, only mine')
  const drafts = await call(app, 'GET', '/v1/me/listings?status=draft', { token: seller.accessToken })
  t.equal(drafts.json.items.length, 4)
  t.equal((await call(app, 'GET', '/v1/me/listings')).statusCode, 401)
  t.equal((await call(app, 'GET', '/v1/me/listings?cursor=garbage', { token: seller.accessToken })).statusCode, 400)
})

void t.test('wishlist: add, list, remove, isFavourite on reads', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const fan = await aUser(app)
  const a = await createListing(app, seller, {
    title: 'Blue bicycle',
    categoryId: await categoryId(app.db, 'bicycles'),
  })
  const b = await createListing(app, seller, { title: 'Red bicycle', categoryId: await categoryId(app.db, 'bicycles') })
  const draft = await createListing(app, seller, { draft: true })

  t.equal((await call(app, 'PUT', `/v1/me/wishlist/${a.id}`, { token: fan.accessToken })).statusCode, 204)
  t.equal((await call(app, 'PUT', `/v1/me/wishlist/${a.id}`, { token: fan.accessToken })).statusCode, 204, 'idempotent')
  t.equal((await call(app, 'PUT', `/v1/me/wishlist/${b.id}`, { token: fan.accessToken })).statusCode, 204)
  const own = await call(app, 'PUT', `/v1/me/wishlist/${a.id}`, { token: seller.accessToken })
  t.equal(own.statusCode, 409)
  t.equal(own.json.code, 'OWN_LISTING')
  t.equal(
    (await call(app, 'PUT', `/v1/me/wishlist/${draft.id}`, { token: fan.accessToken })).statusCode,
    404,
    "someone's draft cannot be wishlisted",
  )
  t.equal(
    (await call(app, 'PUT', '/v1/me/wishlist/00000000-0000-4000-8000-000000000000', { token: fan.accessToken }))
      .statusCode,
    404,
  )
  t.equal((await call(app, 'PUT', `/v1/me/wishlist/${a.id}`)).statusCode, 401)

  const page1 = await call(app, 'GET', '/v1/me/wishlist?limit=1', { token: fan.accessToken })
  t.equal(page1.json.items.length, 1)
  t.equal(page1.json.items[0].listing.id, b.id, 'latest addition first')
  t.equal(page1.json.items[0].listing.isFavourite, true)
  const page2 = await call(app, 'GET', `/v1/me/wishlist?limit=1&cursor=${page1.json.nextCursor}`, {
    token: fan.accessToken,
  })
  t.equal(page2.json.items[0].listing.id, a.id)
  t.equal(page2.json.nextCursor, null)

  t.equal((await call(app, 'GET', `/v1/listings/${a.id}`, { token: fan.accessToken })).json.isFavourite, true)
  t.equal((await call(app, 'GET', `/v1/listings/${a.id}`, { token: seller.accessToken })).json.isFavourite, false)
  const search = await call(app, 'GET', '/v1/listings?q=bicycle', { token: fan.accessToken })
  t.same(
    search.json.items.map((i: { isFavourite: boolean }) => i.isFavourite),
    [true, true],
  )

  t.equal((await call(app, 'DELETE', `/v1/me/wishlist/${a.id}`, { token: fan.accessToken })).statusCode, 204)
  t.equal(
    (await call(app, 'DELETE', `/v1/me/wishlist/${a.id}`, { token: fan.accessToken })).statusCode,
    204,
    'idempotent',
  )
  t.equal((await call(app, 'GET', `/v1/listings/${a.id}`, { token: fan.accessToken })).json.isFavourite, false)

  await call(app, 'DELETE', `/v1/listings/${b.id}`, { token: seller.accessToken })
  t.same(
    (await call(app, 'GET', '/v1/me/wishlist', { token: fan.accessToken })).json.items,
    [],
    'removed listings leave the list',
  )
})

void t.test('price drop: notification and event to wishlisters, not for rises or drafts', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const fans = await Promise.all([aUser(app), aUser(app), aUser(app)])
  const blocker = await aUser(app)
  const l = await createListing(app, seller, { price: 100_000_00 })
  for (const u of [...fans, blocker]) await call(app, 'PUT', `/v1/me/wishlist/${l.id}`, { token: u.accessToken })
  await app.db('blocks').insert({ blocker_id: blocker.id, blocked_id: seller.id })

  await call(app, 'PATCH', `/v1/listings/${l.id}`, { token: seller.accessToken, body: { price: 120_000_00 } })
  // The alerts are fanned out by wishlists' worker after the PATCH commits: run it (this app
  // was started without its background loops).
  await app.priceDrops.drain()
  t.equal(
    Number((await app.db('notifications').where('type', 'price_drop').count({ n: '*' }).first())?.n),
    0,
    'a rise alerts nobody',
  )

  const drop = await call(app, 'PATCH', `/v1/listings/${l.id}`, {
    token: seller.accessToken,
    body: { price: 90_000_00 },
  })
  t.equal(drop.statusCode, 200)
  await app.priceDrops.drain()
  for (const fan of fans) {
    const notes = await call(app, 'GET', '/v1/notifications', { token: fan.accessToken })
    t.same(
      notes.json.items.map((n: { type: string; data: unknown }) => [n.type, n.data]),
      [['price_drop', { listingId: l.id, oldPrice: 120_000_00, newPrice: 90_000_00, currency: 'NGN' }]],
    )
    const events = await call(app, 'GET', '/v1/me/events', { token: fan.accessToken })
    t.same(
      events.json.items.map((e: { event: string }) => e.event),
      ['notification:new'],
    )
    t.equal(events.json.items[0].data.type, 'price_drop')
  }
  t.equal(
    Number((await app.db('notifications').where({ user_id: blocker.id }).count({ n: '*' }).first())?.n),
    0,
    'a wishlister who blocked the seller is not told',
  )
  t.equal(Number((await app.db('notifications').where({ user_id: seller.id }).count({ n: '*' }).first())?.n), 0)

  await call(app, 'PATCH', `/v1/listings/${l.id}`, { token: seller.accessToken, body: { status: 'draft' } })
  await call(app, 'PATCH', `/v1/listings/${l.id}`, { token: seller.accessToken, body: { price: 50_000_00 } })
  await app.priceDrops.drain()
  t.equal(
    Number((await app.db('notifications').where('type', 'price_drop').count({ n: '*' }).first())?.n),
    3,
    'a hidden draft alerts nobody',
  )
})

void t.test('reports', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const reporter = await aUser(app)
  const l = await createListing(app, seller)
  const res = await call(app, 'POST', `/v1/listings/${l.id}/reports`, {
    token: reporter.accessToken,
    body: { reason: 'scam', detail: ' Asks for payment outside the app ' },
  })
  t.equal(res.statusCode, 201)
  t.match(res.json, { listingId: l.id, reason: 'scam', detail: 'Asks for payment outside the app', status: 'open' })
  const row = await app.db('listing_reports').where('id', res.json.id).first()
  t.equal(row!.reporter_id, reporter.id, 'stored for the admins')
  const dup = await call(app, 'POST', `/v1/listings/${l.id}/reports`, {
    token: reporter.accessToken,
    body: { reason: 'other' },
  })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json.code, 'ALREADY_REPORTED')
  const own = await call(app, 'POST', `/v1/listings/${l.id}/reports`, {
    token: seller.accessToken,
    body: { reason: 'scam' },
  })
  t.equal(own.json.code, 'OWN_LISTING')
  t.equal(
    (
      await call(app, 'POST', `/v1/listings/${l.id}/reports`, {
        token: reporter.accessToken,
        body: { reason: 'boring' },
      })
    ).statusCode,
    400,
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/listings/${l.id}/reports`, {
        token: reporter.accessToken,
        body: { reason: 'scam', extra: 1 },
      })
    ).statusCode,
    400,
  )
  t.equal((await call(app, 'POST', `/v1/listings/${l.id}/reports`, { body: { reason: 'scam' } })).statusCode, 401)
  t.equal(
    (
      await call(app, 'POST', '/v1/listings/00000000-0000-4000-8000-000000000000/reports', {
        token: reporter.accessToken,
        body: { reason: 'scam' },
      })
    ).statusCode,
    404,
  )

  // Many people at once: each gets one report, duplicates lose cleanly.
  const crowd = await Promise.all(Array.from({ length: 20 }, () => aUser(app)))
  const results = await Promise.all(
    crowd.flatMap((u) =>
      [1, 2].map(() =>
        call(app, 'POST', `/v1/listings/${l.id}/reports`, { token: u.accessToken, body: { reason: 'prohibited' } }),
      ),
    ),
  )
  t.equal(results.filter((r) => r.statusCode === 201).length, 20)
  t.equal(results.filter((r) => r.statusCode === 409).length, 20)
})

void t.test('only JSON bodies; unknown fields refused', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const form = await app.inject({
    method: 'POST',
    url: '/v1/listings',
    headers: { authorization: `Bearer ${seller.accessToken}`, 'content-type': 'multipart/form-data; boundary=x' },
    payload: '--x--',
  })
  t.equal(form.statusCode, 415, 'multipart is accepted by the photo route only')
  const extra = await call(app, 'POST', '/v1/listings', {
    token: seller.accessToken,
    body: await listingBody(app.db, { featured: true }),
  })
  t.equal(extra.statusCode, 400)
})

void t.test('demo data and the OpenAPI document', async (t) => {
  const app = await build(t)
  await seedDemo(app.db, app.log)
  const listings = await call(app, 'GET', '/v1/listings?limit=100')
  t.equal(listings.json.items.length, 12, 'a dozen demo listings')
  t.ok(
    listings.json.items.some((l: { type: string }) => l.type === 'giveaway'),
    'with a giveaway',
  )
  const sofa = await call(app, 'GET', '/v1/listings?q=sofa')
  t.equal(sofa.json.items[0].title, 'Three-seater grey fabric sofa')
  const wants = await call(app, 'GET', '/v1/wants')
  t.equal(wants.json.items.length, 2, 'two demo wants')
  const ada = await call(app, 'POST', '/v1/auth/login', {
    body: { email: 'tunde@demo.oja', password: 'demo-password' },
  })
  const wishlist = await call(app, 'GET', '/v1/me/wishlist', { token: ada.json.accessToken })
  t.equal(wishlist.json.items.length, 1)

  const doc = (await call(app, 'GET', '/docs/json')).json
  for (const path of [
    '/v1/listings',
    '/v1/listings/{id}',
    '/v1/listings/{id}/images',
    '/v1/listings/{id}/images/{imageId}',
    '/v1/listings/{id}/images/order',
    '/v1/listings/{id}/reports',
    '/v1/me/listings',
    '/v1/wants',
    '/v1/wants/{id}',
    '/v1/wants/{id}/responses',
    '/v1/me/wishlist',
    '/v1/me/wishlist/{listingId}',
  ]) {
    t.ok(doc.paths[path], `${path} documented`)
  }
  t.ok(
    doc.paths['/v1/listings/{id}/images'].post.requestBody?.content?.['multipart/form-data'],
    'the upload is documented as multipart',
  )
  t.ok(doc.paths['/v1/listings'].get.responses['200'], 'search response schema')
})

void t.test('every signed-in catalogue route refuses anonymous callers, and bad ids', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const l = await createListing(app, seller)
  const id = '00000000-0000-4000-8000-000000000000'
  const routes: [string, string, unknown?][] = [
    ['POST', '/v1/listings', {}],
    ['PATCH', `/v1/listings/${l.id}`, { price: 1 }],
    ['DELETE', `/v1/listings/${l.id}`],
    ['GET', '/v1/me/listings'],
    ['POST', `/v1/listings/${l.id}/reports`, { reason: 'scam' }],
    ['POST', `/v1/listings/${l.id}/images`],
    ['DELETE', `/v1/listings/${l.id}/images/${id}`],
    ['PUT', `/v1/listings/${l.id}/images/order`, { imageIds: [id] }],
    ['POST', '/v1/wants', { title: 'Office chair' }],
    ['PATCH', `/v1/wants/${id}`, { title: 'Office chair' }],
    ['DELETE', `/v1/wants/${id}`],
    ['POST', `/v1/wants/${id}/responses`, { listingId: l.id }],
    ['GET', '/v1/me/wishlist'],
    ['PUT', `/v1/me/wishlist/${l.id}`],
    ['DELETE', `/v1/me/wishlist/${l.id}`],
  ]
  for (const [method, url, body] of routes) {
    const res = await call(app, method as 'GET', url, { body })
    t.equal(res.statusCode, 401, `${method} ${url}`)
    t.equal(res.json.code, 'UNAUTHENTICATED')
  }
  const badIds: [string, string, unknown?][] = [
    ['GET', '/v1/listings/123'],
    ['PATCH', '/v1/listings/123', { price: 1 }],
    ['DELETE', '/v1/listings/x'],
    ['GET', '/v1/wants/x'],
    ['PUT', '/v1/me/wishlist/x'],
    ['DELETE', `/v1/listings/${l.id}/images/x`],
    ['PATCH', `/v1/wants/${id}`, {}],
  ]
  for (const [method, url, body] of badIds) {
    const res = await call(app, method as 'GET', url, { token: seller.accessToken, body })
    t.equal(res.statusCode, 400, `${method} ${url} → 400`)
  }
  t.equal((await call(app, 'GET', `/v1/listings/${l.id}`)).json.status, 'active', 'nothing changed')
})
