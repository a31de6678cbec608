/**
 * Regressions of the outside review (hardening issue, items 16 and 17): signed cursors and the
 * abuse limits. Each test failed on the code before its fix.
 */
import t from 'tap'
import { build, call, type TestApp } from './helpers/app.js'
import { aUser, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aConversation, aMessage, anOffer } from './factories/chat.js'
import { aCoupon, available, checkout, commerceApp, fillCarts, toCart } from './factories/commerce.js'
import { connect, request, startNodes } from './helpers/nodes.js'

const count = async (app: TestApp, table: string, where: Record<string, unknown> = {}) =>
  Number((await app.db(table).where(where).count({ n: '*' }).first())?.n)

/** Pages a list to the end; returns every item id. */
async function pageAll(app: TestApp, url: string, token?: string): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  do {
    const sep = url.includes('?') ? '&' : '?'
    const res = await call(app, 'GET', `${url}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`, {
      ...(token ? { token } : {}),
    })
    if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`)
    ids.push(...res.json.items.map((i: { id?: string; listing?: { id: string } }) => i.id ?? i.listing!.id))
    cursor = res.json.nextCursor
  } while (cursor)
  return ids
}

/** The cursor with one character of its payload changed (its signature left as it was). */
function tampered(cursor: string): string {
  const payload = Buffer.from(cursor.split('.')[0]!, 'base64url').toString('utf8')
  const edited = payload.replace(/\d(?=[^\d]*$)/, (d) => String((Number(d) + 1) % 10))
  return `${Buffer.from(edited).toString('base64url')}.${cursor.split('.')[1] ?? ''}`
}

// ---------------------------------------------------------------------------------------------
// 16. Cursors are signed: a forged or foreign one is a 400, and paging still works.

void t.test('a forged relevance cursor cannot lift the ranking window; real cursors still page', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const chairs = []
  for (let i = 0; i < 5; i++) chairs.push(await aListing(app.db, seller.id, { title: `Rocking chair ${i}` }))
  await aListing(app.db, seller.id, { title: 'Dining table', description: 'Oak' })

  const seen = await pageAll(app, '/v1/listings?q=chair&limit=2')
  t.same(new Set(seen), new Set(chairs.map((c) => c.id)), 'relevance pages every match')
  t.equal(seen.length, 5, 'each once')
  t.equal((await pageAll(app, '/v1/listings?sort=newest&limit=2')).length, 6, 'newest pages every listing once')

  // A cursor as the client could write it before: past the window's rows, with no floor.
  const forged = Buffer.from(
    JSON.stringify(['relevance', 'exact', 1e9, 'ffffffff-ffff-4fff-bfff-ffffffffffff', null, null]),
  ).toString('base64url')
  const res = await call(app, 'GET', `/v1/listings?q=chair&limit=2&cursor=${forged}`)
  t.equal(res.statusCode, 400, 'a cursor the server did not sign is refused')
  t.equal(res.json.code, 'VALIDATION_FAILED')

  const first = await call(app, 'GET', '/v1/listings?q=chair&limit=2')
  const next = first.json.nextCursor as string
  t.equal((await call(app, 'GET', `/v1/listings?q=chair&limit=2&cursor=${tampered(next)}`)).statusCode, 400, 'edited')
  const other = await call(app, 'GET', `/v1/listings?q=table&limit=2&cursor=${encodeURIComponent(next)}`)
  t.equal(other.statusCode, 400, "another search's cursor is refused (its window belongs to that search)")
  const filtered = await call(app, 'GET', `/v1/listings?q=chair&limit=2&minPrice=1&cursor=${encodeURIComponent(next)}`)
  t.equal(filtered.statusCode, 400, 'so is the same search with other filters')
  const again = await call(app, 'GET', `/v1/listings?q=chair&limit=2&cursor=${encodeURIComponent(next)}`)
  t.equal(again.statusCode, 200, 'the real cursor pages')
  t.equal(again.json.items.length, 2)
})

void t.test('a tampered or foreign cursor is refused on the other lists', async (t) => {
  const app = await build(t)
  const user = await aUser(app)
  for (let i = 0; i < 3; i++) await aListing(app.db, user.id, { title: `Lamp ${i}` })
  await app
    .db('notifications')
    .insert(Array.from({ length: 3 }, (_, i) => ({ user_id: user.id, type: 'message', data: { n: i } })))

  t.equal((await pageAll(app, '/v1/notifications?limit=1', user.accessToken)).length, 3, 'notifications page')
  t.equal((await pageAll(app, '/v1/me/listings?limit=1', user.accessToken)).length, 3, 'my listings page')

  const notes = await call(app, 'GET', '/v1/notifications?limit=1', { token: user.accessToken })
  const mine = await call(app, 'GET', '/v1/me/listings?limit=1', { token: user.accessToken })
  const noteCursor = notes.json.nextCursor as string
  const listingCursor = mine.json.nextCursor as string
  for (const [url, what] of [
    [`/v1/notifications?limit=1&cursor=${encodeURIComponent(tampered(noteCursor))}`, 'an edited notifications cursor'],
    [`/v1/notifications?limit=1&cursor=${encodeURIComponent(listingCursor)}`, 'a my-listings cursor on notifications'],
    [`/v1/me/listings?limit=1&cursor=${encodeURIComponent(noteCursor)}`, 'a notifications cursor on my listings'],
    [`/v1/conversations?limit=1&cursor=${encodeURIComponent(noteCursor)}`, 'a notifications cursor on conversations'],
    [`/v1/orders?limit=1&cursor=${encodeURIComponent(noteCursor)}`, 'a notifications cursor on orders'],
  ] as const) {
    const res = await call(app, 'GET', url, { token: user.accessToken })
    t.equal(res.statusCode, 400, `${what} is refused`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
  }
})

// ---------------------------------------------------------------------------------------------
// 17a. Reservation caps: unpaid checkouts per buyer, and a share of a listing across them.

void t.test(
  'a buyer holds at most CHECKOUT_MAX_UNPAID unpaid checkouts; the next is 429 and changes nothing',
  async (t) => {
    const { app } = await commerceApp(t, { CHECKOUT_MAX_UNPAID: 2 })
    const seller = await aUser(app)
    const buyer = await aUser(app)
    const listings = [
      await aListing(app.db, seller.id, { title: 'Lamp' }),
      await aListing(app.db, seller.id, { title: 'Desk' }),
      await aListing(app.db, seller.id, { title: 'Chair' }),
    ]
    const orders: string[] = []
    for (const l of listings.slice(0, 2)) {
      await call(app, 'DELETE', '/v1/cart', { token: buyer.accessToken })
      t.equal((await toCart(app, buyer, l.id)).statusCode, 200)
      const co = await checkout(app, buyer)
      t.equal(co.statusCode, 201, co.body)
      orders.push(co.json.order.id as string)
    }
    await call(app, 'DELETE', '/v1/cart', { token: buyer.accessToken })
    await toCart(app, buyer, listings[2]!.id)
    const refused = await checkout(app, buyer)
    t.equal(refused.statusCode, 429, refused.body)
    t.equal(refused.json.code, 'TOO_MANY_UNPAID_CHECKOUTS')
    t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After: when the first hold ends')
    t.equal(await count(app, 'orders', { buyer_id: buyer.id }), 2, 'no third order')
    t.equal(await available(app, listings[2]!.id), 1, 'nothing reserved')

    // Cancelling an unpaid checkout frees a place.
    t.equal((await call(app, 'POST', `/v1/orders/${orders[0]}/cancel`, { token: buyer.accessToken })).statusCode, 200)
    t.equal((await checkout(app, buyer)).statusCode, 201, 'after a cancel the checkout goes through')
  },
)

void t.test(
  'across unpaid checkouts a buyer holds at most a share of a listing; one checkout may take all',
  async (t) => {
    const { app } = await commerceApp(t)
    const seller = await aUser(app)
    const buyer = await aUser(app)
    const other = await aUser(app)
    const stock = await aListing(app.db, seller.id, { title: 'Dining chairs', quantity: 10 })

    t.equal((await toCart(app, buyer, stock.id, 4)).statusCode, 200)
    t.equal((await checkout(app, buyer)).statusCode, 201, 'a first checkout of 4 of 10')
    await toCart(app, buyer, stock.id, 1)
    t.equal((await checkout(app, buyer)).statusCode, 201, 'a second holding 5 of 10: half')
    const refused = await checkout(app, buyer)
    t.equal(refused.statusCode, 429, refused.body)
    t.equal(refused.json.code, 'RESERVATION_LIMIT')
    t.equal(refused.json.moreAllowed, 0)
    t.ok(Number(refused.headers['retry-after']) >= 1)
    t.equal(await available(app, stock.id), 5, 'the refused checkout reserved nothing')
    t.equal(await count(app, 'orders', { buyer_id: buyer.id }), 2)

    // Another buyer may take everything that is left in one checkout.
    t.equal((await toCart(app, other, stock.id, 5)).statusCode, 200)
    t.equal((await checkout(app, other)).statusCode, 201, 'one checkout may take all that is left')
    t.equal(await available(app, stock.id), 0)
  },
)

void t.test('racing checkouts of one buyer cannot pass the unpaid-checkout cap together', async (t) => {
  const { app } = await commerceApp(t, { CHECKOUT_MAX_UNPAID: 1, RESERVATION_MAX_SHARE_PERCENT: 0 })
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const stock = await aListing(app.db, seller.id, { title: 'Mugs', quantity: 5 })
  await toCart(app, buyer, stock.id, 1)
  const results = await Promise.all(Array.from({ length: 4 }, () => checkout(app, buyer)))
  t.same(results.map((r) => r.statusCode).sort(), [201, 429, 429, 429], results.map((r) => r.body).join('\n'))
  t.equal(await available(app, stock.id), 4, 'one unit held')
})

// ---------------------------------------------------------------------------------------------
// 17b. An accepted offer prices only the units it was agreed for.

void t.test('an accepted offer prices at most its quantity; more units are refused and change nothing', async (t) => {
  const { app } = await commerceApp(t)
  const { buyer, seller, listing, conversation } = await aConversation(app, {
    listing: { quantity: 5, price: 10_000_00 },
  })
  const offer = await anOffer(app, buyer, conversation.id, 6_000_00)
  t.equal(offer.quantity, 1, 'an offer is for one unit unless it says more')
  t.equal((await call(app, 'POST', `/v1/offers/${offer.id}/accept`, { token: seller.accessToken })).statusCode, 200)

  // A cart line of 3 units at the offer's price (as a line written before the offer was accepted).
  await fillCarts(app, [{ userId: buyer.id, listingId: listing.id, quantity: 3 }])
  const cart = await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })
  t.equal(cart.json.items[0].offerQuantity, 1)
  t.equal(cart.json.checkoutReady, false, 'the cart says the line cannot be bought as it is')
  const refused = await checkout(app, buyer)
  t.equal(refused.statusCode, 409, refused.body)
  t.equal(refused.json.code, 'OFFER_QUANTITY_EXCEEDED')
  t.equal(await count(app, 'orders', { buyer_id: buyer.id }), 0, 'no order')
  t.equal(await available(app, listing.id), 5, 'nothing reserved')
  const put = await toCart(app, buyer, listing.id, 2)
  t.equal(put.statusCode, 409, 'the cart refuses more units than the offer too')
  t.equal((await app.db('cart_items').where('user_id', buyer.id).first('quantity'))?.quantity, 3, 'line unchanged')

  t.equal((await toCart(app, buyer, listing.id, 1)).statusCode, 200)
  const co = await checkout(app, buyer)
  t.equal(co.statusCode, 201, co.body)
  t.equal(co.json.order.total, 6_000_00, 'one unit at the offer price')
})

void t.test('an offer for several units prices them all; it cannot exceed the stock left', async (t) => {
  const { app } = await commerceApp(t)
  const { buyer, seller, listing, conversation } = await aConversation(app, {
    listing: { quantity: 5, price: 10_000_00 },
  })
  const tooMany = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 7_000_00, quantity: 6 },
  })
  t.equal(tooMany.statusCode, 409)
  t.equal(tooMany.json.code, 'OFFER_QUANTITY_TOO_LARGE')
  t.equal(await count(app, 'offers'), 0, 'no offer stored')

  const made = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 7_000_00, quantity: 2 },
  })
  t.equal(made.statusCode, 201, made.body)
  const countered = await call(app, 'POST', `/v1/offers/${made.json.id}/counter`, {
    token: seller.accessToken,
    body: { amount: 8_000_00 },
  })
  t.equal(countered.json.quantity, 2, 'a counter keeps the quantity unless it names one')
  t.equal(
    (await call(app, 'POST', `/v1/offers/${countered.json.id}/accept`, { token: buyer.accessToken })).statusCode,
    200,
  )
  await toCart(app, buyer, listing.id, 2)
  const co = await checkout(app, buyer)
  t.equal(co.statusCode, 201, co.body)
  t.equal(co.json.order.total, 16_000_00, 'two units at the countered price')
})

// ---------------------------------------------------------------------------------------------
// 17c. Price-drop alerts: once per listing and wishlister per day, only below the lowest alerted.

void t.test('price-drop alerts do not repeat on a down-and-up cycle', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const fan = await aUser(app)
  const listing = await aListing(app.db, seller.id, { price: 10_000_00 })
  await call(app, 'PUT', `/v1/me/wishlist/${listing.id}`, { token: fan.accessToken })
  const setPrice = async (price: number) => {
    const res = await call(app, 'PATCH', `/v1/listings/${listing.id}`, { token: seller.accessToken, body: { price } })
    t.equal(res.statusCode, 200, res.body)
    // The alert is written by wishlists' worker after the PATCH commits.
    await app.priceDrops.drain()
  }
  const alerts = () => count(app, 'notifications', { user_id: fan.id, type: 'price_drop' })
  const aDayLater = () =>
    app
      .db('price_drop_alerts')
      .where('user_id', fan.id)
      .update({ alerted_at: app.db.raw("now() - interval '25 hours'") })

  await setPrice(9_000_00)
  t.equal(await alerts(), 1, 'the first drop alerts')
  await setPrice(10_000_00)
  await setPrice(9_000_00)
  t.equal(await alerts(), 1, 'up and down again: no second alert')
  await setPrice(8_000_00)
  t.equal(await alerts(), 1, 'a lower price within 24 h: no second alert')
  await aDayLater()
  await setPrice(10_000_00)
  await setPrice(9_500_00)
  t.equal(await alerts(), 1, 'a day later, a drop not below the lowest alerted price: none')
  await setPrice(8_500_00)
  t.equal(await alerts(), 2, 'a day later, below the lowest alerted price: alerted')
  const last = await app
    .db('notifications')
    .where({ user_id: fan.id, type: 'price_drop' })
    .orderBy('created_at', 'desc')
    .first()
  t.same(last?.data, { listingId: listing.id, oldPrice: 9_500_00, newPrice: 8_500_00, currency: 'NGN' })
})

// ---------------------------------------------------------------------------------------------
// 17d. Offers count against the chat send limit.

void t.test('making and countering offers (and answering wants) count against the chat send limit', async (t) => {
  // Scale 1: chat sends are 20 per user per 10 s.
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const { buyer, seller, listing, conversation } = await aConversation(app)
  const offer = await anOffer(app, buyer, conversation.id, 200_000_00)
  for (let i = 0; i < 20; i++) await aMessage(app, seller, conversation.id, `message ${i}`)
  const counter = await call(app, 'POST', `/v1/offers/${offer.id}/counter`, {
    token: seller.accessToken,
    body: { amount: 230_000_00 },
  })
  t.equal(counter.statusCode, 429, counter.body)
  t.equal(counter.json.code, 'RATE_LIMITED')
  t.ok(Number(counter.headers['retry-after']) >= 1)
  t.equal((await app.db('offers').where('id', offer.id).first('status'))?.status, 'pending', 'offer still pending')
  t.equal(await count(app, 'offers'), 1, 'no counter-offer stored')

  // A sibling: answering a want with a message is a send too.
  const want = await call(app, 'POST', '/v1/wants', {
    token: buyer.accessToken,
    body: { title: 'Looking for a sofa', description: 'Grey, three seats' },
  })
  t.equal(want.statusCode, 201, want.body)
  const messages = await count(app, 'messages')
  const answer = await call(app, 'POST', `/v1/wants/${want.json.id}/responses`, {
    token: seller.accessToken,
    body: { listingId: listing.id, message: 'I have one' },
  })
  t.equal(answer.statusCode, 429, answer.body)
  t.equal(await count(app, 'messages'), messages, 'no message stored')

  // The buyer's offer used one of their 20: 19 messages, then the next offer is refused.
  for (let i = 0; i < 19; i++) await aMessage(app, buyer, conversation.id, `buyer ${i}`)
  const second = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 1_00 },
  })
  t.equal(second.statusCode, 429, second.body)
  t.equal(await count(app, 'offers'), 1)
})

// ---------------------------------------------------------------------------------------------
// 17e. Failed coupon lookups are limited per user and per IP.

void t.test('guessing coupon codes is limited per user and per IP, on the cart and at checkout', async (t) => {
  const { app } = await commerceApp(t, {
    RATE_LIMIT_SCALE: 1,
    COUPON_FAILURE_LIMIT_PER_USER: 2,
    COUPON_FAILURE_LIMIT_PER_IP: 4,
  })
  const seller = await aUser(app)
  const coupon = await aCoupon(app)
  const buyers: SignedInUser[] = [await aUser(app), await aUser(app), await aUser(app)]
  for (const b of buyers) await toCart(app, b, (await aListing(app.db, seller.id, { quantity: 1 })).id)
  const tryCode = (b: SignedInUser, code: string) =>
    call(app, 'PUT', '/v1/cart/coupon', { token: b.accessToken, body: { code } })

  for (const guess of ['GUESS1', 'GUESS2']) t.equal((await tryCode(buyers[0]!, guess)).statusCode, 404)
  const limited = await tryCode(buyers[0]!, coupon.code)
  t.equal(limited.statusCode, 429, 'once used up, even the right code is refused')
  t.equal(limited.json.code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) >= 1)
  t.equal((await app.db('carts').where('user_id', buyers[0]!.id).first('coupon_id'))?.coupon_id ?? null, null)

  // At checkout a typed code is a lookup too.
  for (const guess of ['GUESS3', 'GUESS4'])
    t.equal((await checkout(app, buyers[1]!, { couponCode: guess })).statusCode, 404)
  const atCheckout = await checkout(app, buyers[1]!, { couponCode: coupon.code })
  t.equal(atCheckout.statusCode, 429, atCheckout.body)
  t.equal(await count(app, 'orders', { buyer_id: buyers[1]!.id }), 0, 'no order')

  // Four failures from this IP: a third account from it is refused at once.
  const sameIp = await tryCode(buyers[2]!, coupon.code)
  t.equal(sameIp.statusCode, 429, 'the per-IP limit holds across accounts')
  t.equal((await checkout(app, buyers[2]!)).statusCode, 201, 'a checkout without a typed code is not a lookup')
})

// ---------------------------------------------------------------------------------------------
// 17f. Read receipts are throttled, on the socket and over REST.

void t.test('socket conversation:read is throttled and a refused read moves nothing', async (t) => {
  const {
    nodes: [node],
  } = await startNodes(t, 1, () => ({ env: { RATE_LIMIT_SCALE: 1, CHAT_READ_LIMIT: 3 } }))
  const app = node!.app as unknown as TestApp
  const { buyer, seller, conversation } = await aConversation(app)
  const first = await aMessage(app, seller, conversation.id, 'first')
  const second = await aMessage(app, seller, conversation.id, 'second')
  const live = await connect(t, node!, { token: buyer.accessToken })

  for (let i = 0; i < 3; i++) {
    const ack = await request(live.socket, 'conversation:read', {
      conversationId: conversation.id,
      upToMessageId: first.id,
    })
    t.equal(ack.ok, true, `read ${i + 1} of 3`)
  }
  const over = await request(live.socket, 'conversation:read', {
    conversationId: conversation.id,
    upToMessageId: second.id,
  })
  t.match(over, { ok: false, code: 'RATE_LIMITED' })
  t.ok(over.retryAfter >= 1, 'the ack says when to retry')
  const rest = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
    token: buyer.accessToken,
    body: { upToMessageId: second.id },
  })
  t.equal(rest.statusCode, 429, 'the REST read receipt shares the limit')
  t.equal(
    (await app.db('conversation_reads').where({ conversation_id: conversation.id, user_id: buyer.id }).first())
      ?.message_id,
    first.id,
    'the read pointer did not move',
  )
})
