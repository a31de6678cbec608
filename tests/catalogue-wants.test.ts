import t from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { categoryId } from './factories/listings.js'
import { createListing } from './factories/catalogue.js'

const LAGOS = { city: 'Lagos', state: 'Lagos', lat: 6.5244, lng: 3.3792 }
const KANO = { city: 'Kano', state: 'Kano', lat: 12.0022, lng: 8.592 }

async function createWant(app: OjaApp, user: SignedInUser, body: Record<string, unknown> = {}): Promise<Json> {
  const res = await call(app, 'POST', '/v1/wants', {
    token: user.accessToken,
    body: { title: 'Office chair', description: 'Ergonomic, with lumbar support', ...body },
  })
  if (res.statusCode !== 201) throw new Error(`create want: ${res.statusCode} ${res.body}`)
  return res.json
}

const notificationsOf = async (app: OjaApp, userId: string, type: string) =>
  (await app.db('notifications').where({ user_id: userId, type }).orderBy('created_at').select('data')).map(
    (r: { data: unknown }) => r.data,
  )

void t.test('wants: create, read, edit, close, delete', async (t) => {
  const app = await build(t)
  const author = await aUser(app, { name: 'Bola' })
  const other = await aUser(app)
  const admin = await anAdmin(app)
  const furniture = await categoryId(app.db, 'furniture')
  const w = await createWant(app, author, { categoryId: furniture, maxPrice: 70_000_00, location: LAGOS })
  t.match(w, {
    userId: author.id,
    author: { id: author.id, name: 'Bola' },
    title: 'Office chair',
    categoryId: furniture,
    maxPrice: 70_000_00,
    currency: 'NGN',
    location: LAGOS,
    status: 'open',
  })
  t.same((await call(app, 'GET', `/v1/wants/${w.id}`)).json, w, 'anyone can read it')

  const edit = await call(app, 'PATCH', `/v1/wants/${w.id}`, {
    token: author.accessToken,
    body: { maxPrice: null, categoryId: null, location: null, title: 'Office chair or stool' },
  })
  t.equal(edit.statusCode, 200)
  t.equal(edit.json.maxPrice, null, 'null clears, it is not coerced to 0')
  t.equal(edit.json.categoryId, null)
  t.equal(edit.json.location, null)
  t.equal(edit.json.title, 'Office chair or stool')
  t.equal(
    (await call(app, 'PATCH', `/v1/wants/${w.id}`, { token: other.accessToken, body: { status: 'closed' } }))
      .statusCode,
    403,
    "another user's want",
  )
  const closed = await call(app, 'PATCH', `/v1/wants/${w.id}`, {
    token: author.accessToken,
    body: { status: 'closed' },
  })
  t.equal(closed.json.status, 'closed')
  t.equal((await call(app, 'DELETE', `/v1/wants/${w.id}`, { token: other.accessToken })).statusCode, 403)
  t.equal(
    (await call(app, 'DELETE', `/v1/wants/${w.id}`, { token: admin.accessToken })).statusCode,
    204,
    'admins may delete',
  )
  t.equal((await call(app, 'GET', `/v1/wants/${w.id}`)).statusCode, 404)
  t.equal((await call(app, 'DELETE', `/v1/wants/${w.id}`, { token: author.accessToken })).statusCode, 404)

  const bad: [Record<string, unknown>, string][] = [
    [{ maxPrice: -5 }, '/body/maxPrice'],
    [{ maxPrice: 10.5 }, '/body/maxPrice'],
    [{ title: 'ab' }, '/body/title'],
    [{ title: '    ' }, '/body/title'],
    [{ categoryId: '00000000-0000-4000-8000-000000000000' }, '/body/categoryId'],
    [{ location: { city: 'Lagos', state: 'Lagos', lng: 3 } }, '/body/location'],
    [{ userId: other.id }, '/body/userId'],
  ]
  for (const [body, path] of bad) {
    const res = await call(app, 'POST', '/v1/wants', {
      token: author.accessToken,
      body: { title: 'Office chair', ...body },
    })
    t.equal(res.statusCode, 400, JSON.stringify(body))
    t.ok(
      res.json.errors?.some((e: { path: string }) => e.path === path),
      `names ${path}`,
    )
  }
  t.equal((await call(app, 'POST', '/v1/wants', { body: { title: 'Office chair' } })).statusCode, 401)
})

void t.test('listing wants: everyone open ones, mine, text and category, cursor', async (t) => {
  const app = await build(t)
  const a = await aUser(app)
  const b = await aUser(app)
  const phones = await categoryId(app.db, 'phones-tablets')
  const chair = await createWant(app, a, {
    title: 'Office chairs',
    categoryId: await categoryId(app.db, 'office-furniture'),
  })
  const phone = await createWant(app, b, {
    title: 'iPhone 12 or 13',
    categoryId: await categoryId(app.db, 'mobile-phones'),
  })
  const closed = await createWant(app, b, { title: 'Gaming chair' })
  await call(app, 'PATCH', `/v1/wants/${closed.id}`, { token: b.accessToken, body: { status: 'closed' } })
  const list = async (qs: string, token?: string) => {
    const res = await call(app, 'GET', `/v1/wants?${qs}`, { token })
    t.equal(res.statusCode, 200, qs)
    return res.json.items.map((w: { id: string }) => w.id)
  }
  t.same(await list(''), [phone.id, chair.id], 'open wants, newest first')
  t.same(await list('q=chair'), [chair.id], 'text search with stemming ("chair" finds "chairs")')
  t.same(await list(`categoryId=${phones}`), [phone.id], 'category includes sub-categories')
  t.same(await list('mine=true', b.accessToken), [closed.id, phone.id], 'mine: open and closed')
  t.same(await list('mine=true&status=closed', b.accessToken), [closed.id])
  t.same(await list(`q=${encodeURIComponent("'); delete from wants; --")}`), [])
  t.equal((await call(app, 'GET', '/v1/wants?mine=true')).statusCode, 401)
  t.equal((await call(app, 'GET', '/v1/wants?status=closed')).statusCode, 400)
  const p1 = await call(app, 'GET', '/v1/wants?limit=1')
  const p2 = await call(app, 'GET', `/v1/wants?limit=1&cursor=${p1.json.nextCursor}`)
  t.same(
    [...p1.json.items, ...p2.json.items].map((w: { id: string }) => w.id),
    [phone.id, chair.id],
  )
  t.equal(p2.json.nextCursor, null)
  t.equal((await call(app, 'GET', '/v1/wants?cursor=eyJ4IjoxfQ')).statusCode, 400)
})

void t.test('answering a want opens a conversation and notifies the author', async (t) => {
  const app = await build(t)
  const author = await aUser(app)
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const want = await createWant(app, author)
  const listing = await createListing(app, seller, {
    title: 'Mesh office chair',
    categoryId: await categoryId(app.db, 'office-furniture'),
  })

  const res = await call(app, 'POST', `/v1/wants/${want.id}/responses`, {
    token: seller.accessToken,
    body: { listingId: listing.id, message: ' I have this one, barely used ' },
  })
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json.created, true)
  const conv = await app.db('conversations').where('id', res.json.conversationId).first()
  t.match(conv, { listing_id: listing.id, want_id: want.id, buyer_id: author.id, seller_id: seller.id })
  t.ok(conv.last_message_at, 'last message time set')
  t.match(res.json.message, {
    conversationId: conv.id,
    senderId: seller.id,
    kind: 'text',
    body: 'I have this one, barely used',
    readAt: null,
  })
  const stored = await app.db('messages').where('conversation_id', conv.id).select('kind', 'body', 'sender_id')
  t.same(stored, [{ kind: 'text', body: 'I have this one, barely used', sender_id: seller.id }])
  for (const user of [author, seller]) {
    const events = (await call(app, 'GET', '/v1/me/events', { token: user.accessToken })).json.items as {
      event: string
      data: Json
    }[]
    const messageEvent = events.find((e) => e.event === 'message:new')
    t.same(messageEvent?.data, res.json.message, 'message:new to both participants, shaped as a Message')
  }
  t.same(await notificationsOf(app, author.id, 'want_response'), [
    { wantId: want.id, listingId: listing.id, conversationId: conv.id },
  ])
  const authorEvents = (await call(app, 'GET', '/v1/me/events', { token: author.accessToken })).json.items as {
    event: string
    data: Json
  }[]
  t.ok(authorEvents.some((e) => e.event === 'notification:new' && e.data.type === 'want_response'))

  const again = await call(app, 'POST', `/v1/wants/${want.id}/responses`, {
    token: seller.accessToken,
    body: { listingId: listing.id },
  })
  t.equal(again.statusCode, 200, 'the same conversation is reused')
  t.equal(again.json.conversationId, conv.id)
  t.equal(again.json.created, false)
  t.equal(again.json.message, null)
  t.equal(
    (await notificationsOf(app, author.id, 'want_response')).length,
    1,
    'no second notification for the same answer',
  )

  // Concurrent answers from another seller: one conversation, one notification.
  const seller2 = await aUser(app)
  const l2 = await createListing(app, seller2, { title: 'Kneeling chair' })
  const burst = await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      call(app, 'POST', `/v1/wants/${want.id}/responses`, {
        token: seller2.accessToken,
        body: { listingId: l2.id, message: `hello ${i}` },
      }),
    ),
  )
  t.same(burst.map((r) => r.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201])
  t.equal(new Set(burst.map((r) => r.json.conversationId)).size, 1)
  t.equal(
    Number(
      (await app.db('messages').where('conversation_id', burst[0]!.json.conversationId).count({ n: '*' }).first())?.n,
    ),
    12,
    'every message kept',
  )
  t.equal((await notificationsOf(app, author.id, 'want_response')).length, 2)

  // Unhappy paths.
  const draft = await createListing(app, seller, { draft: true })
  const cases: [SignedInUser | undefined, string, Record<string, unknown>, number, string?][] = [
    [undefined, want.id, { listingId: listing.id }, 401],
    [author, want.id, { listingId: listing.id }, 409, 'OWN_WANT'],
    [stranger, want.id, { listingId: listing.id }, 403, 'FORBIDDEN'],
    [seller, want.id, { listingId: draft.id }, 409, 'LISTING_NOT_ACTIVE'],
    [stranger, want.id, { listingId: draft.id }, 404],
    [seller, '00000000-0000-4000-8000-000000000000', { listingId: listing.id }, 404],
    [seller, want.id, { listingId: listing.id, message: '' }, 400],
    [seller, want.id, { listingId: listing.id, message: 'x'.repeat(2001) }, 400],
  ]
  for (const [user, wantId, body, status, code] of cases) {
    const r = await call(app, 'POST', `/v1/wants/${wantId}/responses`, { token: user?.accessToken, body })
    t.equal(r.statusCode, status, `${JSON.stringify(body)} → ${status}`)
    if (code) t.equal(r.json.code, code)
  }
  await app.db('blocks').insert({ blocker_id: author.id, blocked_id: stranger.id })
  const l3 = await createListing(app, stranger)
  const blocked = await call(app, 'POST', `/v1/wants/${want.id}/responses`, {
    token: stranger.accessToken,
    body: { listingId: l3.id },
  })
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json.code, 'BLOCKED')
  await call(app, 'PATCH', `/v1/wants/${want.id}`, { token: author.accessToken, body: { status: 'closed' } })
  const closed = await call(app, 'POST', `/v1/wants/${want.id}/responses`, {
    token: seller.accessToken,
    body: { listingId: listing.id },
  })
  t.equal(closed.json.code, 'WANT_CLOSED')
})

void t.test('a newly published listing matching open wants notifies their authors', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const buyers = await Promise.all(Array.from({ length: 8 }, () => aUser(app)))
  const furniture = await categoryId(app.db, 'furniture')
  const office = await categoryId(app.db, 'office-furniture')
  const phones = await categoryId(app.db, 'mobile-phones')
  const match1 = await createWant(app, buyers[0]!, {
    title: 'Office chair',
    categoryId: furniture,
    maxPrice: 70_000_00,
    location: LAGOS,
  })
  const match2 = await createWant(app, buyers[1]!, { title: 'ergonomic chairs' })
  const match3 = await createWant(app, buyers[2]!, { title: 'Chair', location: { city: 'Ikeja', state: 'Lagos' } })
  await createWant(app, buyers[3]!, { title: 'Office chair', maxPrice: 50_000_00 }) // too expensive
  await createWant(app, buyers[4]!, { title: 'Office chair', categoryId: phones }) // wrong category
  await createWant(app, buyers[5]!, { title: 'Office chair', location: KANO }) // too far
  await createWant(app, buyers[6]!, { title: 'Standing desk' }) // other words
  const closedWant = await createWant(app, buyers[7]!, { title: 'Office chair' })
  await call(app, 'PATCH', `/v1/wants/${closedWant.id}`, { token: buyers[7]!.accessToken, body: { status: 'closed' } })
  await createWant(app, seller, { title: 'Office chair' }) // the seller's own want

  const draft = await createListing(app, seller, {
    draft: true,
    title: 'Ergonomic office chair',
    description: 'Mesh back, adjustable',
    categoryId: office,
    price: 60_000_00,
    location: LAGOS,
  })
  t.equal(
    Number((await app.db('notifications').where('type', 'want_match').count({ n: '*' }).first())?.n),
    0,
    'a draft matches nothing',
  )
  await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: seller.accessToken, body: { status: 'active' } })
  const notified = (await app.db('notifications').where('type', 'want_match').select('user_id', 'data')) as {
    user_id: string
    data: Json
  }[]
  t.same(
    notified.map((n) => n.user_id).sort(),
    [buyers[0]!.id, buyers[1]!.id, buyers[2]!.id].sort(),
    'category subtree, price cap, words, distance, state, status and authorship all count',
  )
  t.same(notified.find((n) => n.user_id === buyers[0]!.id)?.data, { wantId: match1.id, listingId: draft.id })
  t.ok(notified.some((n) => n.data.wantId === match2.id) && notified.some((n) => n.data.wantId === match3.id))
  const events = (await call(app, 'GET', '/v1/me/events', { token: buyers[0]!.accessToken })).json.items as {
    event: string
    data: Json
  }[]
  t.same(
    events.map((e) => [e.event, e.data.type]),
    [['notification:new', 'want_match']],
  )

  // Republishing does not notify twice; a new listing does, set-based for many wants.
  await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: seller.accessToken, body: { status: 'draft' } })
  await call(app, 'PATCH', `/v1/listings/${draft.id}`, { token: seller.accessToken, body: { status: 'active' } })
  t.equal(Number((await app.db('notifications').where('type', 'want_match').count({ n: '*' }).first())?.n), 3)
  const crowd = await Promise.all(Array.from({ length: 40 }, () => aUser(app)))
  for (const u of crowd) await createWant(app, u, { title: 'Bicycle' })
  await createListing(app, seller, { title: 'Mountain bicycle', categoryId: await categoryId(app.db, 'bicycles') })
  t.equal(Number((await app.db('notifications').where('type', 'want_match').count({ n: '*' }).first())?.n), 43)
})
