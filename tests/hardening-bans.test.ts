/**
 * Regressions of the outside review (hardening issue), bans: a banned seller's listings and a
 * banned author's wants leave every public path and come back with the unban (item 10), and a
 * banned user's token is answered 403 ACCOUNT_BANNED everywhere, not 401 SESSION_REVOKED
 * (item 11). Each test failed on the code before its fix.
 */
import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing, categoryId } from './factories/listings.js'
import { createListing } from './factories/catalogue.js'
import { checkout, commerceApp, paidOrder, toCart } from './factories/commerce.js'
import { aConversation } from './factories/chat.js'
import { connect, openFeed, request, startNodes } from './helpers/nodes.js'
import { createWantsService } from '../src/wants/wants.service.js'

async function ban(app: OjaApp, admin: SignedInUser, userId: string): Promise<void> {
  const res = await call(app, 'POST', `/v1/admin/users/${userId}/ban`, {
    token: admin.accessToken,
    body: { reason: 'fraud' },
  })
  if (res.statusCode !== 200) throw new Error(`ban: ${res.statusCode} ${res.body}`)
}

async function unban(app: OjaApp, admin: SignedInUser, userId: string): Promise<void> {
  const res = await call(app, 'POST', `/v1/admin/users/${userId}/unban`, { token: admin.accessToken })
  if (res.statusCode !== 200) throw new Error(`unban: ${res.statusCode} ${res.body}`)
}

const ids = (page: Json) => (page.items as Json[]).map((i) => (i.listing ?? i).id as string)

void t.test(
  "a ban takes the seller's listings off search, browse, detail and wishlists; the unban puts them back",
  async (t) => {
    const app = await build(t)
    const admin = await anAdmin(app)
    const seller = await aUser(app)
    const other = await aUser(app)
    const buyer = await aUser(app)
    const word = `zq${randomUUID().slice(0, 6)}`
    const banned = await aListing(app.db, seller.id, { title: `Walnut ${word} bookshelf`, lat: 6.5244, lng: 3.3792 })
    const sold = await aListing(app.db, seller.id, { title: `Teak ${word} stool`, status: 'sold', sold_quantity: 1 })
    const kept = await aListing(app.db, other.id, { title: `Oak ${word} bookshelf`, lat: 6.5244, lng: 3.3792 })
    t.equal((await call(app, 'PUT', `/v1/me/wishlist/${banned.id}`, { token: buyer.accessToken })).statusCode, 204)
    t.equal((await call(app, 'PUT', `/v1/me/wishlist/${sold.id}`, { token: buyer.accessToken })).statusCode, 204)
    const sofas = await categoryId(app.db)

    const paths = {
      text: `/v1/listings?q=${word}`,
      newest: '/v1/listings?limit=100',
      price: '/v1/listings?sort=price_desc&limit=100',
      category: `/v1/listings?categoryId=${sofas}&limit=100`,
      seller: `/v1/listings?sellerId=${seller.id}`,
      radius: '/v1/listings?lat=6.5244&lng=3.3792&radiusKm=5&limit=100',
      distance: '/v1/listings?lat=6.5244&lng=3.3792&sort=distance&limit=100',
    }
    const seen = async () => {
      const out: Record<string, string[]> = {}
      for (const [name, url] of Object.entries(paths)) {
        const res = await call(app, 'GET', url, { token: buyer.accessToken })
        t.equal(res.statusCode, 200, `${name}: ${res.body}`)
        out[name] = ids(res.json).filter((id) => [banned.id, kept.id].includes(id))
      }
      return out
    }
    for (const [name, found] of Object.entries(await seen()))
      t.ok(found.includes(banned.id), `before the ban, ${name} finds the listing`)

    await ban(app, admin, seller.id)
    for (const [name, found] of Object.entries(await seen())) {
      t.notOk(found.includes(banned.id), `after the ban, ${name} does not find it`)
      if (name !== 'seller') t.ok(found.includes(kept.id), `${name} still finds other sellers' listings`)
    }
    for (const token of [buyer.accessToken, undefined]) {
      const detail = await call(app, 'GET', `/v1/listings/${banned.id}`, { ...(token ? { token } : {}) })
      t.equal(detail.statusCode, 404, 'the page is gone for others')
      t.equal(detail.json.code, 'LISTING_NOT_FOUND')
    }
    t.equal((await call(app, 'GET', `/v1/listings/${sold.id}`)).statusCode, 404, 'sold ones too')
    t.equal(
      (await call(app, 'GET', `/v1/listings/${banned.id}`, { token: admin.accessToken })).statusCode,
      200,
      'admins still see it',
    )
    t.same(
      ids((await call(app, 'GET', '/v1/me/wishlist', { token: buyer.accessToken })).json),
      [],
      'wishlist hides both',
    )
    const wish = await call(app, 'PUT', `/v1/me/wishlist/${banned.id}`, { token: other.accessToken })
    t.equal(wish.json.code, 'LISTING_NOT_FOUND', 'and refuses a new one')
    const report = await call(app, 'POST', `/v1/listings/${banned.id}/reports`, {
      token: buyer.accessToken,
      body: { reason: 'scam' },
    })
    t.equal(report.json.code, 'LISTING_NOT_FOUND')
    const reviews = await call(app, 'GET', `/v1/listings/${banned.id}/reviews`)
    t.equal(reviews.json.code, 'LISTING_NOT_FOUND', "the listing's reviews go with it")

    await unban(app, admin, seller.id)
    for (const [name, found] of Object.entries(await seen()))
      t.ok(found.includes(banned.id), `after the unban, ${name} finds it again`)
    t.equal((await call(app, 'GET', `/v1/listings/${banned.id}`)).statusCode, 200)
    t.same(
      ids((await call(app, 'GET', '/v1/me/wishlist', { token: buyer.accessToken })).json).sort(),
      [banned.id, sold.id].sort(),
      'the wishlist shows them again',
    )
  },
)

void t.test('a ban of the seller while a buyer waits in checkout', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const seller = await aUser(app)
  const [early, waiting, late] = [await aUser(app), await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 5, price: 10_000_00 })

  const paid = await paidOrder(app, paystack, early, [listing.id])
  t.equal(paid.paymentStatus, 'paid')
  const put = await toCart(app, waiting, listing.id)
  t.equal(put.statusCode, 200)
  const pending = await checkout(app, waiting)
  t.equal(pending.statusCode, 201, pending.body)
  t.equal((await toCart(app, late, listing.id)).statusCode, 200)

  await ban(app, admin, seller.id)

  const cart = await call(app, 'GET', '/v1/cart', { token: late.accessToken })
  t.match(
    cart.json.items,
    [{ listingId: listing.id, available: false, availableQuantity: 0 }],
    'the line is unavailable',
  )
  t.equal(cart.json.checkoutReady, false)
  const refused = await checkout(app, late)
  t.equal(refused.statusCode, 409, refused.body)
  t.equal(refused.json.code, 'LISTING_UNAVAILABLE')
  t.equal(refused.json.listingId, listing.id, 'naming the line')
  const again = await toCart(app, late, listing.id, 2)
  t.equal(again.json.code, 'LISTING_UNAVAILABLE', 'nor can it be put in a cart')
  t.equal(
    Number((await app.db('orders').where('buyer_id', late.id).count({ n: '*' }).first())?.n),
    0,
    'no order was written',
  )

  // The payment started before the ban lands now: the listing is off sale, so it is refunded.
  paystack.pay(pending.json.payment.reference)
  const verify = await call(app, 'POST', `/v1/orders/${pending.json.order.id}/verify-payment`, {
    token: waiting.accessToken,
  })
  t.equal(verify.statusCode, 200, verify.body)
  await app.commerce.idle()
  const order = await call(app, 'GET', `/v1/orders/${pending.json.order.id}`, { token: waiting.accessToken })
  t.equal(order.json.paymentStatus, 'refunded')
  t.match(order.json.refunds, [{ amount: 10_000_00, origin: 'late_payment' }])
  t.equal(paystack.refunds.length, 1, 'Paystack was asked to refund it')
  const mail = await app.db('mail_outbox').where('subject', 'like', 'Refund for your Oja order%').first('text_body')
  t.match(mail?.text_body, /taken off sale/, 'the buyer is told why')
  t.equal(paystack.refunds[0]!.transaction.reference, pending.json.payment.reference)
  const l = (await app.db('listings').where('id', listing.id).first())!
  t.equal(l.sold_quantity, 1, 'only the order paid before the ban sold a unit')
  const earlyOrder = await call(app, 'GET', `/v1/orders/${paid.id}`, { token: early.accessToken })
  t.equal(earlyOrder.json.paymentStatus, 'paid', 'an order paid before the ban stands')

  await unban(app, admin, seller.id)
  const back = await call(app, 'GET', '/v1/cart', { token: late.accessToken })
  t.match(back.json.items, [{ listingId: listing.id, available: true, availableQuantity: 4 }], 'on sale again')
  t.equal((await checkout(app, late)).statusCode, 201)
})

void t.test("offers and new conversations about a banned seller's listing are refused", async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const { buyer, seller, listing, conversation } = await aConversation(app)
  const newcomer = await aUser(app)

  await ban(app, admin, seller.id)
  const offer = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 100_000_00 },
  })
  t.equal(offer.statusCode, 409, offer.body)
  t.equal(offer.json.code, 'LISTING_NOT_AVAILABLE')
  t.equal(Number((await app.db('offers').count({ n: '*' }).first())?.n), 0, 'no offer stored')
  const open = await call(app, 'POST', '/v1/conversations', {
    token: newcomer.accessToken,
    body: { listingId: listing.id, message: 'Still available?' },
  })
  t.equal(open.statusCode, 404, open.body)
  t.equal(open.json.code, 'LISTING_NOT_FOUND')

  await unban(app, admin, seller.id)
  const after = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 100_000_00 },
  })
  t.equal(after.statusCode, 201, after.body)
})

void t.test(
  "a ban takes the author's wants off the list, their pages and matching; the unban puts them back",
  async (t) => {
    const app = await build(t)
    const admin = await anAdmin(app)
    const author = await aUser(app)
    const seller = await aUser(app)
    const word = `zq${randomUUID().slice(0, 6)}`
    const want = await call(app, 'POST', '/v1/wants', {
      token: author.accessToken,
      body: { title: `${word} lamp` },
    })
    t.equal(want.statusCode, 201, want.body)
    const listed = async () =>
      ((await call(app, 'GET', `/v1/wants?q=${word}`)).json.items as Json[]).map((w) => w.id as string)
    t.same(await listed(), [want.json.id])

    await ban(app, admin, author.id)
    t.same(await listed(), [], 'gone from the list')
    const page = await call(app, 'GET', `/v1/wants/${want.json.id}`, { token: seller.accessToken })
    t.equal(page.json.code, 'WANT_NOT_FOUND')
    t.equal(
      (await call(app, 'GET', `/v1/wants/${want.json.id}`, { token: admin.accessToken })).statusCode,
      200,
      'admins still see it',
    )
    const listing = await createListing(app, seller, { title: `Brass ${word} lamp` })
    const answer = await call(app, 'POST', `/v1/wants/${want.json.id}/responses`, {
      token: seller.accessToken,
      body: { listingId: listing.id },
    })
    t.equal(answer.json.code, 'WANT_NOT_FOUND', 'nobody answers it')
    const chat = await call(app, 'POST', '/v1/conversations', {
      token: seller.accessToken,
      body: { wantId: want.json.id },
    })
    t.equal(chat.json.code, 'WANT_NOT_FOUND', 'nor opens a chat about it')
    t.equal(
      Number(
        (await app.db('notifications').where({ user_id: author.id, type: 'want_match' }).count({ n: '*' }).first())?.n,
      ),
      0,
      'a matching listing published meanwhile does not notify the banned author',
    )

    await unban(app, admin, author.id)
    t.same(await listed(), [want.json.id], 'listed again')
    t.equal((await call(app, 'GET', `/v1/wants/${want.json.id}`)).statusCode, 200)
    await createListing(app, seller, { title: `Copper ${word} lamp` })
    t.equal(
      Number(
        (await app.db('notifications').where({ user_id: author.id, type: 'want_match' }).count({ n: '*' }).first())?.n,
      ),
      1,
      'and matched again',
    )
  },
)

void t.test('a listing or want created as the ban commits is flagged too', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const session = await app.db('sessions').where('user_id', seller.id).first('id')
  const actor = { id: seller.id, role: 'user' as const, sessionId: session.id as string }
  // The request passed its token check just before the ban committed.
  await app.db('users').where('id', seller.id).update({ banned_at: app.db.fn.now() })
  const ctx = { db: app.db, actor, log: app.log, requestId: randomUUID() }
  const listing = await app.catalogue.listings.create(
    ctx as never,
    {
      title: 'Racing listing',
      description: 'Posted as the ban landed',
      type: 'sale',
      price: 10_000_00,
      condition: 'good',
      categoryId: await categoryId(app.db),
    } as never,
  )
  const row = await app.db('listings').where('id', listing.id).first('seller_banned')
  t.equal(row.seller_banned, true, 'the new listing is off sale with the rest')
  const hits = await call(app, 'GET', '/v1/listings?q=racing')
  t.same(ids(hits.json), [], 'and search does not find it')
  const want = await createWantsService({ spine: app.spine }).create(ctx as never, { title: 'Racing want' } as never)
  t.equal((await app.db('wants').where('id', want.id).first('author_banned')).author_banned, true, 'the new want too')
  t.same(((await call(app, 'GET', '/v1/wants?q=racing')).json.items as Json[]).length, 0)
})

void t.test(
  'a banned user is answered 403 ACCOUNT_BANNED on REST and refresh; after the unban, signed out',
  async (t) => {
    const app = await build(t)
    const admin = await anAdmin(app)
    const user = await aUser(app)
    await ban(app, admin, user.id)

    for (const [method, url] of [
      ['GET', '/v1/me'],
      ['GET', '/v1/cart'],
      ['GET', '/v1/listings'],
    ] as const) {
      const res = await call(app, method, url, { token: user.accessToken })
      t.equal(res.statusCode, 403, `${method} ${url}`)
      t.equal(res.json.code, 'ACCOUNT_BANNED')
      t.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8')
    }
    const write = await call(app, 'POST', '/v1/wants', { token: user.accessToken, body: { title: 'Anything at all' } })
    t.equal(write.json.code, 'ACCOUNT_BANNED')
    t.equal(Number((await app.db('wants').count({ n: '*' }).first())?.n), 0, 'nothing was written')
    const refresh = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })
    t.equal(refresh.statusCode, 403, refresh.body)
    t.equal(refresh.json.code, 'ACCOUNT_BANNED')
    const login = await call(app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
    t.equal(login.json.code, 'ACCOUNT_BANNED')

    await unban(app, admin, user.id)
    const old = await call(app, 'GET', '/v1/me', { token: user.accessToken })
    t.equal(old.statusCode, 401, 'the session the ban ended stays ended')
    t.equal(old.json.code, 'SESSION_REVOKED')
    const stale = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })
    t.equal(stale.json.code, 'INVALID_REFRESH_TOKEN')
    const back = await call(app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
    t.equal(back.statusCode, 200, 'signing in works again')
  },
)

void t.test(
  'Socket.IO and the feed: a banned token is refused with ACCOUNT_BANNED, live connections are told',
  async (t) => {
    const {
      nodes: [a],
    } = await startNodes(t, 1)
    const node = a!
    const admin = await anAdmin(node.app)
    const user = await aUser(node.app)
    const live = await connect(t, node, { token: user.accessToken })
    const feed = await openFeed(t, node, { token: user.accessToken })
    const ended = new Promise<unknown>((resolve) => live.socket.on('session:ended', resolve))

    await ban(node.app, admin, user.id)
    t.same(await ended, { reason: 'banned', code: 'ACCOUNT_BANNED' }, 'the connected socket is told why')
    t.same(await feed.closed, { code: 4001, reason: 'banned' }, 'the feed is closed as a session end')

    const refused = await connect(t, node, { token: user.accessToken }).then(
      () => t.fail('connected'),
      (e: Error & { data?: { code: string; status: number } }) => e.data,
    )
    t.same(refused, { code: 'ACCOUNT_BANNED', status: 403 }, 'the handshake says banned')
    const stream = (await openFeed(t, node, { token: user.accessToken }).then(
      () => t.fail('upgraded'),
      (e: { status: number; body: { code: string } }) => e,
    )) as { status: number; body: { code: string } }
    t.equal(stream.status, 403, 'the feed refuses the upgrade')
    t.equal(stream.body.code, 'ACCOUNT_BANNED')
  },
)

void t.test('a socket request after a ban whose disconnect never arrived is refused ACCOUNT_BANNED', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1)
  const node = a!
  const { buyer, conversation } = await aConversation(node.app)
  const live = await connect(t, node, { token: buyer.accessToken })
  const ended = new Promise<unknown>((resolve) => live.socket.on('session:ended', resolve))

  // What the ban commits, without the broadcast that drops the sockets (another node's ban
  // while Redis was away): the connection is still open.
  await node.app.db.transaction(async (trx) => {
    await trx('users').where('id', buyer.id).update({ banned_at: trx.fn.now(), ban_reason: 'fraud' })
    await trx('sessions').where('user_id', buyer.id).update({ revoked_at: trx.fn.now(), revoked_reason: 'banned' })
  })
  t.ok(live.socket.connected)
  const refresh = await request(live.socket, 'auth:refresh', { token: buyer.accessToken })
  t.match(refresh, { ok: false, code: 'ACCOUNT_BANNED' }, 'an in-band refresh says banned')
  const send = await request(live.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'sent after the ban',
    clientId: 'after-ban',
  })
  t.match(send, { ok: false, code: 'ACCOUNT_BANNED' })
  t.equal(
    Number((await node.app.db('messages').where({ client_id: 'after-ban' }).count({ n: '*' }).first())?.n),
    0,
    'nothing was stored',
  )
  t.same(await ended, { reason: 'banned', code: 'ACCOUNT_BANNED' }, 'and the connection is ended')
})
