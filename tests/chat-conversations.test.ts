import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aConversation, aMessage } from './factories/chat.js'

void t.test('open a conversation: open-or-return, who may start one, and refusals', async (t) => {
  const app = await build(t)
  const [buyer, seller, stranger] = await Promise.all([aUser(app), aUser(app, { name: 'Seller' }), aUser(app)])
  const listing = await aListing(app.db, seller.id, { title: 'Oak wardrobe' })

  const first = await call(app, 'POST', '/v1/conversations', {
    token: buyer.accessToken,
    body: { listingId: listing.id },
  })
  t.equal(first.statusCode, 201)
  t.match(first.json, {
    listing: { id: listing.id, title: 'Oak wardrobe' },
    otherUser: { id: seller.id, name: 'Seller' },
    buyerId: buyer.id,
    sellerId: seller.id,
    lastMessage: null,
    unreadCount: 0,
  })
  const again = await call(app, 'POST', '/v1/conversations', {
    token: buyer.accessToken,
    body: { listingId: listing.id, message: 'Hello again' },
  })
  t.equal(again.statusCode, 200, 'the existing conversation is returned')
  t.equal(again.json.id, first.json.id)
  t.equal(again.json.lastMessage.body, 'Hello again', 'with the first message sent')

  // The seller can return a conversation a buyer started, but not cold-message anyone.
  const sellerSide = await call(app, 'POST', '/v1/conversations', {
    token: seller.accessToken,
    body: { listingId: listing.id, recipientId: buyer.id },
  })
  t.equal(sellerSide.statusCode, 200)
  t.equal(sellerSide.json.id, first.json.id)
  t.equal(sellerSide.json.otherUser.id, buyer.id)
  t.equal(sellerSide.json.unreadCount, 1, 'the buyer’s message is unread for the seller')
  const cold = await call(app, 'POST', '/v1/conversations', {
    token: seller.accessToken,
    body: { listingId: listing.id, recipientId: stranger.id },
  })
  t.equal(cold.statusCode, 404)
  t.equal(cold.json.code, 'CONVERSATION_NOT_FOUND')
  const noRecipient = await call(app, 'POST', '/v1/conversations', {
    token: seller.accessToken,
    body: { listingId: listing.id },
  })
  t.equal(noRecipient.json.code, 'RECIPIENT_REQUIRED')
  const self = await call(app, 'POST', '/v1/conversations', {
    token: seller.accessToken,
    body: { listingId: listing.id, recipientId: seller.id },
  })
  t.equal(self.json.code, 'CANNOT_MESSAGE_SELF')
  const mismatch = await call(app, 'POST', '/v1/conversations', {
    token: stranger.accessToken,
    body: { listingId: listing.id, recipientId: buyer.id },
  })
  t.equal(mismatch.json.code, 'RECIPIENT_MISMATCH')

  const draft = await aListing(app.db, seller.id, { status: 'draft' })
  t.equal(
    (await call(app, 'POST', '/v1/conversations', { token: buyer.accessToken, body: { listingId: draft.id } })).json
      .code,
    'LISTING_NOT_FOUND',
  )
  const removed = await aListing(app.db, seller.id, { status: 'removed' })
  t.equal(
    (await call(app, 'POST', '/v1/conversations', { token: buyer.accessToken, body: { listingId: removed.id } })).json
      .code,
    'LISTING_NOT_AVAILABLE',
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/conversations', {
        token: buyer.accessToken,
        body: { listingId: '00000000-0000-4000-8000-000000000000' },
      })
    ).statusCode,
    404,
  )

  // Either block refuses, both ways.
  await app.db('blocks').insert({ blocker_id: seller.id, blocked_id: stranger.id })
  const blocked = await call(app, 'POST', '/v1/conversations', {
    token: stranger.accessToken,
    body: { listingId: listing.id },
  })
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json.code, 'BLOCKED')

  // Bad input.
  for (const body of [
    {},
    { listingId: listing.id, wantId: listing.id },
    { listingId: 'nope' },
    { listingId: listing.id, extra: 1 },
    { listingId: listing.id, message: '   ' },
  ]) {
    const res = await call(app, 'POST', '/v1/conversations', { token: buyer.accessToken, body })
    t.equal(res.statusCode, 400, `400 for ${JSON.stringify(body)}`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
  }
  t.equal((await call(app, 'POST', '/v1/conversations', { body: { listingId: listing.id } })).statusCode, 401)
  t.equal((await app.db('conversations').count({ n: '*' }).first())?.n, 1, 'only the one conversation exists')
})

void t.test('a hundred simultaneous opens by the same buyer make one conversation', async (t) => {
  const app = await build(t, { DATABASE_POOL_MAX: 20 })
  const [buyer, seller] = await Promise.all([aUser(app), aUser(app)])
  const listing = await aListing(app.db, seller.id)
  const results = await Promise.all(
    Array.from({ length: 100 }, () =>
      call(app, 'POST', '/v1/conversations', { token: buyer.accessToken, body: { listingId: listing.id } }),
    ),
  )
  t.same([...new Set(results.map((r) => r.statusCode))].sort(), [200, 201])
  t.equal(results.filter((r) => r.statusCode === 201).length, 1, 'exactly one created')
  t.equal(new Set(results.map((r) => r.json.id)).size, 1, 'all answers name the same conversation')
})

void t.test('messages: history newest first with before= paging, clientId replays, limits, outsiders', async (t) => {
  const app = await build(t, { DATABASE_POOL_MAX: 20 })
  const { buyer, seller, conversation } = await aConversation(app)
  const outsider = await aUser(app)
  const sent: string[] = []
  for (let i = 0; i < 25; i++)
    sent.push((await aMessage(app, i % 2 ? seller : buyer, conversation.id, `message ${i}`)).id)

  const seen: string[] = []
  let before: string | null = null
  do {
    const page: Awaited<ReturnType<typeof call>> = await call(
      app,
      'GET',
      `/v1/conversations/${conversation.id}/messages?limit=10${before ? `&before=${before}` : ''}`,
      { token: seller.accessToken },
    )
    t.equal(page.statusCode, 200)
    seen.push(...page.json.items.map((m: { id: string }) => m.id))
    before = page.json.nextCursor
    // A message arriving while paging back does not disturb older pages.
    if (before) await aMessage(app, buyer, conversation.id, 'interleaved')
  } while (before)
  t.same(seen, [...sent].reverse(), 'every message exactly once, newest first')

  const history = await call(app, 'GET', `/v1/conversations/${conversation.id}/messages?limit=1`, {
    token: buyer.accessToken,
  })
  t.match(history.json.items[0], {
    conversationId: conversation.id,
    senderId: buyer.id,
    kind: 'text',
    body: 'interleaved',
    clientId: null,
    readAt: null,
  })

  t.equal(
    (
      await call(app, 'GET', `/v1/conversations/${conversation.id}/messages?before=${outsider.id}`, {
        token: buyer.accessToken,
      })
    ).json.code,
    'MESSAGE_NOT_FOUND',
  )
  for (const [method, url, body] of [
    ['GET', `/v1/conversations/${conversation.id}/messages`, undefined],
    ['POST', `/v1/conversations/${conversation.id}/messages`, { body: 'let me in' }],
    ['GET', `/v1/conversations/${conversation.id}`, undefined],
    ['POST', `/v1/conversations/${conversation.id}/read`, { upToMessageId: sent[0] }],
  ] as const) {
    const res = await call(app, method, url, { token: outsider.accessToken, body })
    t.equal(res.statusCode, 404, `${method} ${url} by an outsider`)
    t.equal(res.json.code, 'CONVERSATION_NOT_FOUND')
  }

  for (const body of [
    { body: '' },
    { body: ' \n\t ' },
    { body: 'x'.repeat(4001) },
    { body: 'ok', clientId: 'has space' },
    { body: 'ok', clientId: 'x'.repeat(65) },
    { body: 'ok', kind: 'system' },
  ]) {
    const res = await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
      token: buyer.accessToken,
      body,
    })
    t.equal(res.statusCode, 400, `refused: ${JSON.stringify(body).slice(0, 60)}`)
  }
  t.equal(
    (
      await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
        token: buyer.accessToken,
        body: { body: 'x'.repeat(4000) },
      })
    ).statusCode,
    201,
    '4 000 characters is fine',
  )

  // The same clientId a hundred times at once: one message, one pair of events.
  const before100 = Number((await app.db('user_events').where('event', 'message:new').count({ n: '*' }).first())?.n)
  const replays = await Promise.all(
    Array.from({ length: 100 }, () =>
      call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
        token: buyer.accessToken,
        body: { body: 'only once', clientId: 'c-1' },
      }),
    ),
  )
  t.equal(replays.filter((r) => r.statusCode === 201).length, 1)
  t.equal(replays.filter((r) => r.statusCode === 200).length, 99)
  t.equal(new Set(replays.map((r) => r.json.id)).size, 1)
  t.equal(replays[0]!.json.clientId, 'c-1')
  t.equal(Number((await app.db('messages').where({ client_id: 'c-1' }).count({ n: '*' }).first())?.n), 1)
  t.equal(
    Number((await app.db('user_events').where('event', 'message:new').count({ n: '*' }).first())?.n) - before100,
    2,
    'one message:new per participant',
  )
  const reused = await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
    token: buyer.accessToken,
    body: { body: 'something else', clientId: 'c-1' },
  })
  t.equal(reused.statusCode, 409)
  t.equal(reused.json.code, 'CLIENT_ID_REUSED')
  const otherSender = await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
    token: seller.accessToken,
    body: { body: 'mine', clientId: 'c-1' },
  })
  t.equal(otherSender.statusCode, 201, 'clientIds are per sender')

  await app.db('blocks').insert({ blocker_id: buyer.id, blocked_id: seller.id })
  const blocked = await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
    token: seller.accessToken,
    body: { body: 'hello?' },
  })
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json.code, 'BLOCKED')
})

void t.test('my conversations: newest activity first, last message, unread counts, stable cursor paging', async (t) => {
  const app = await build(t)
  const me = await aUser(app, { name: 'Me' })
  const convs = []
  for (let i = 0; i < 12; i++) {
    // I am the buyer in some and the seller in others.
    const pair = i % 3 === 0 ? await aConversation(app, { seller: me }) : await aConversation(app, { buyer: me })
    convs.push(pair)
    const other = pair.buyer.id === me.id ? pair.seller : pair.buyer
    await aMessage(app, other, pair.conversation.id, `hello ${i}`)
  }
  // Activity on the oldest one moves it to the top.
  const oldest = convs[0]!
  await aMessage(app, oldest.buyer.id === me.id ? oldest.seller : oldest.buyer, oldest.conversation.id, 'bump')

  const ids: string[] = []
  let cursor: string | null = null
  let pageNo = 0
  do {
    const page: Awaited<ReturnType<typeof call>> = await call(
      app,
      'GET',
      `/v1/conversations?limit=5${cursor ? `&cursor=${cursor}` : ''}`,
      { token: me.accessToken },
    )
    t.equal(page.statusCode, 200)
    ids.push(...page.json.items.map((c: { id: string }) => c.id))
    if (pageNo++ === 0) {
      t.match(page.json.items[0], { id: oldest.conversation.id, lastMessage: { body: 'bump' }, unreadCount: 2 })
      t.not(page.json.items[0].otherUser.id, me.id)
      // New activity while paging: already-listed conversations move up, nothing repeats.
      await aMessage(
        app,
        convs[11]!.buyer.id === me.id ? convs[11]!.seller : convs[11]!.buyer,
        convs[11]!.conversation.id,
        'late',
      )
    }
    cursor = page.json.nextCursor
  } while (cursor)
  t.equal(ids.length, 12)
  t.equal(new Set(ids).size, 12, 'no conversation twice')
  t.equal(ids[0], oldest.conversation.id)
  t.same(
    ids.slice(1),
    convs
      .slice(1)
      .map((c) => c.conversation.id)
      .reverse(),
  )

  t.equal((await call(app, 'GET', '/v1/conversations?cursor=bm9wZQ', { token: me.accessToken })).statusCode, 400)
  t.equal((await call(app, 'GET', '/v1/conversations?limit=101', { token: me.accessToken })).statusCode, 400)
})

void t.test(
  'read receipts: the pointer only moves forward, unread counts follow, both sides get message:read',
  async (t) => {
    const app = await build(t)
    const { buyer, seller, conversation } = await aConversation(app)
    const m1 = await aMessage(app, buyer, conversation.id, 'one')
    const m2 = await aMessage(app, buyer, conversation.id, 'two')
    const m3 = await aMessage(app, buyer, conversation.id, 'three')
    const mine = await aMessage(app, seller, conversation.id, 'mine')
    t.equal(
      (await call(app, 'GET', `/v1/conversations/${conversation.id}`, { token: seller.accessToken })).json.unreadCount,
      3,
      'my own message is not unread',
    )

    const read = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
      token: seller.accessToken,
      body: { upToMessageId: m2.id },
    })
    t.equal(read.statusCode, 200)
    t.match(read.json, { conversationId: conversation.id, userId: seller.id, upToMessageId: m2.id, unreadCount: 1 })
    const back = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
      token: seller.accessToken,
      body: { upToMessageId: m1.id },
    })
    t.match(
      back.json,
      { upToMessageId: m2.id, readAt: read.json.readAt, unreadCount: 1 },
      'reading an older message does not move the pointer back',
    )
    const all = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
      token: seller.accessToken,
      body: { upToMessageId: mine.id },
    })
    t.equal(all.json.unreadCount, 0)

    const events = await app
      .db('user_events')
      .where('event', 'message:read')
      .orderBy(['user_id', 'seq'])
      .select('user_id', 'data')
    t.equal(events.length, 4, 'two moves, each to both participants; the backwards read sent nothing')
    t.same(new Set(events.map((e) => e.user_id)), new Set([buyer.id, seller.id]))

    const history = await call(app, 'GET', `/v1/conversations/${conversation.id}/messages`, {
      token: buyer.accessToken,
    })
    const byBody = Object.fromEntries(
      history.json.items.map((m: { body: string; readAt: string | null }) => [m.body, m.readAt]),
    )
    t.ok(byBody.one && byBody.two && byBody.three, 'the buyer sees its messages read')
    t.equal(byBody.mine, null, 'the seller’s own message is not read by the buyer yet')
    t.equal(
      (
        await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
          token: seller.accessToken,
          body: { upToMessageId: m3.conversationId },
        })
      ).json.code,
      'MESSAGE_NOT_FOUND',
    )
  },
)

void t.test('a message to someone with no live connection creates a `message` notification', async (t) => {
  const app = await build(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const m = await aMessage(app, buyer, conversation.id)
  const notes = await call(app, 'GET', '/v1/notifications', { token: seller.accessToken })
  t.equal(notes.json.items.length, 1)
  t.match(notes.json.items[0], { type: 'message', data: { conversationId: conversation.id, messageId: m.id } })
  t.equal(
    (await call(app, 'GET', '/v1/notifications', { token: buyer.accessToken })).json.items.length,
    0,
    'not to the sender',
  )
})

void t.test(
  'chat sends are rate limited per user (20 per 10 s × RATE_LIMIT_SCALE), on every route that sends',
  async (t) => {
    const app = await build(t, { RATE_LIMIT_SCALE: 0.25 })
    const { buyer, seller, conversation } = await aConversation(app)
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
          token: buyer.accessToken,
          body: { body: `m${i}` },
        }),
      ),
    )
    t.equal(results.filter((r) => r.statusCode === 201).length, 5)
    const limited = results.find((r) => r.statusCode === 429)!
    t.equal(limited.json.code, 'RATE_LIMITED')
    t.ok(Number(limited.headers['retry-after']) >= 1)
    t.equal(
      (
        await call(app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
          token: seller.accessToken,
          body: { body: 'the other user still can' },
        })
      ).statusCode,
      201,
    )
  },
)

void t.test('conversation paging is exact to the microsecond (rows other features write with now())', async (t) => {
  const app = await build(t)
  const me = await aUser(app)
  const others = await Promise.all(Array.from({ length: 5 }, () => aUser(app)))
  // Thirty conversations (about wants) whose activity times differ by microseconds within one millisecond.
  const rows = await app
    .db('conversations')
    .insert(
      Array.from({ length: 30 }, (_, i) => ({
        want_id: app.db.raw('gen_random_uuid()'),
        buyer_id: i % 2 ? me.id : others[i % 5]!.id,
        seller_id: i % 2 ? others[i % 5]!.id : me.id,
        last_activity_at: app.db.raw(`'2026-11-01T10:00:00.123Z'::timestamptz + ? * interval '1 microsecond'`, [i % 7]),
      })),
    )
    .returning('id')
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const page: Awaited<ReturnType<typeof call>> = await call(
      app,
      'GET',
      `/v1/conversations?limit=4${cursor ? `&cursor=${cursor}` : ''}`,
      { token: me.accessToken },
    )
    t.equal(page.statusCode, 200)
    ids.push(...page.json.items.map((c: { id: string }) => c.id))
    cursor = page.json.nextCursor
  } while (cursor)
  t.equal(ids.length, rows.length, 'every conversation')
  t.equal(new Set(ids).size, rows.length, 'exactly once')
  const expected = (
    await app
      .db('conversations')
      .orderBy([
        { column: 'last_activity_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .select('id')
  ).map((r) => r.id)
  t.same(ids, expected, 'in (last_activity_at, id) order, microseconds included')
})
