import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aConversation, anOffer } from './factories/chat.js'

const address = {
  fullName: 'Ada Buyer',
  phone: '+2348012345678',
  line1: '1 Marina Road',
  city: 'Lagos',
  state: 'Lagos',
}

void t.test('offer → counter → accept: the state machine, its messages, events and notifications', async (t) => {
  const app = await build(t)
  const { buyer, seller, listing, conversation } = await aConversation(app)

  const bySeller = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: seller.accessToken,
    body: { amount: 100 },
  })
  t.equal(bySeller.statusCode, 403)
  t.equal(bySeller.json.code, 'ONLY_BUYER_CAN_OFFER')

  const offer = await anOffer(app, buyer, conversation.id, 200_000_00)
  t.match(offer, {
    conversationId: conversation.id,
    listingId: listing.id,
    buyerId: buyer.id,
    sellerId: seller.id,
    amount: 200_000_00,
    currency: 'NGN',
    status: 'pending',
    createdBy: buyer.id,
    parentOfferId: null,
    expiresAt: null,
  })
  const second = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 210_000_00 },
  })
  t.equal(second.statusCode, 409)
  t.equal(second.json.code, 'OFFER_ALREADY_PENDING')

  // Only the other side answers a pending offer.
  for (const action of ['accept', 'decline']) {
    const own = await call(app, 'POST', `/v1/offers/${offer.id}/${action}`, { token: buyer.accessToken })
    t.equal(own.statusCode, 403, `the maker cannot ${action}`)
    t.equal(own.json.code, 'NOT_OFFER_RECIPIENT')
  }
  t.equal(
    (await call(app, 'POST', `/v1/offers/${offer.id}/counter`, { token: buyer.accessToken, body: { amount: 1 } })).json
      .code,
    'NOT_OFFER_RECIPIENT',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${offer.id}/withdraw`, { token: seller.accessToken, body: {} })).json.code,
    'NOT_OFFER_MAKER',
  )
  const stranger = await aUser(app)
  t.equal(
    (await call(app, 'POST', `/v1/offers/${offer.id}/accept`, { token: stranger.accessToken })).json.code,
    'OFFER_NOT_FOUND',
  )
  t.equal((await call(app, 'GET', `/v1/offers/${offer.id}`, { token: stranger.accessToken })).statusCode, 404)

  const counter = await call(app, 'POST', `/v1/offers/${offer.id}/counter`, {
    token: seller.accessToken,
    body: { amount: 230_000_00 },
  })
  t.equal(counter.statusCode, 201)
  t.match(counter.json, { status: 'pending', amount: 230_000_00, createdBy: seller.id, parentOfferId: offer.id })
  t.equal((await call(app, 'GET', `/v1/offers/${offer.id}`, { token: buyer.accessToken })).json.status, 'countered')
  t.equal(
    (await call(app, 'POST', `/v1/offers/${offer.id}/accept`, { token: seller.accessToken })).json.code,
    'OFFER_NOT_PENDING',
    'a countered offer is closed',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${counter.json.id}/accept`, { token: seller.accessToken })).json.code,
    'NOT_OFFER_RECIPIENT',
    'the counter’s maker is now the seller',
  )

  const accepted = await call(app, 'POST', `/v1/offers/${counter.json.id}/accept`, {
    token: buyer.accessToken,
    body: {},
  })
  t.equal(accepted.statusCode, 200)
  t.equal(accepted.json.status, 'accepted')
  const holdHours = (Date.parse(accepted.json.expiresAt) - Date.parse(accepted.json.respondedAt)) / 3_600_000
  t.equal(Math.round(holdHours), 48, 'the price holds for 48 hours')
  t.equal(
    (await call(app, 'POST', `/v1/offers/${counter.json.id}/accept`, { token: buyer.accessToken })).json.code,
    'OFFER_NOT_PENDING',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${counter.json.id}/withdraw`, { token: seller.accessToken })).json.code,
    'OFFER_NOT_PENDING',
  )

  // Both offers are messages of kind `offer` carrying their current state.
  const history = await call(app, 'GET', `/v1/conversations/${conversation.id}/messages`, { token: buyer.accessToken })
  const offerMessages = history.json.items.filter((m: { kind: string }) => m.kind === 'offer')
  t.equal(offerMessages.length, 2)
  t.match(offerMessages[0], {
    senderId: seller.id,
    body: /Counter-offer: ₦230,000\.00/,
    offer: { id: counter.json.id, status: 'accepted' },
  })
  t.match(offerMessages[1], {
    senderId: buyer.id,
    body: /Offer: ₦200,000\.00/,
    offer: { id: offer.id, status: 'countered' },
  })

  // offer:updated to both sides for each change: pending, countered + new pending, accepted.
  for (const user of [buyer, seller]) {
    const events = await app
      .db('user_events')
      .where({ user_id: user.id, event: 'offer:updated' })
      .orderBy('seq')
      .select('data')
    t.same(
      events.map((e) => [e.data.id, e.data.status]),
      [
        [offer.id, 'pending'],
        [offer.id, 'countered'],
        [counter.json.id, 'pending'],
        [counter.json.id, 'accepted'],
      ],
      `offer:updated for ${user === buyer ? 'buyer' : 'seller'}`,
    )
  }
  const notes = async (user: { accessToken: string }) =>
    (await call(app, 'GET', '/v1/notifications', { token: user.accessToken })).json.items
      .filter((n: { type: string }) => n.type === 'offer')
      .map((n: { data: unknown }) => n.data)
  t.same(await notes(seller), [
    { offerId: counter.json.id, status: 'accepted' },
    { offerId: offer.id, status: 'pending' },
  ])
  t.same(await notes(buyer), [{ offerId: counter.json.id, status: 'pending' }])

  // One live accepted offer per buyer and listing.
  const again = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { amount: 1_000_00 },
  })
  t.equal(again.json.code, 'OFFER_ALREADY_ACCEPTED')
})

void t.test('decline, withdraw, and what cannot be offered on', async (t) => {
  const app = await build(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const o1 = await anOffer(app, buyer, conversation.id, 150_000_00)
  t.equal(
    (await call(app, 'POST', `/v1/offers/${o1.id}/decline`, { token: seller.accessToken })).json.status,
    'declined',
  )
  const o2 = await anOffer(app, buyer, conversation.id, 160_000_00)
  t.equal(
    (await call(app, 'POST', `/v1/offers/${o2.id}/withdraw`, { token: buyer.accessToken })).json.status,
    'withdrawn',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${o2.id}/decline`, { token: seller.accessToken })).json.code,
    'OFFER_NOT_PENDING',
  )
  const withdrawNote = (await call(app, 'GET', '/v1/notifications', { token: seller.accessToken })).json.items[0]
  t.match(withdrawNote, { type: 'offer', data: { offerId: o2.id, status: 'withdrawn' } })

  for (const body of [
    { amount: 0 },
    { amount: -5 },
    { amount: 1.5 },
    {},
    { amount: 100, currency: 'USD' },
    { amount: 100, extra: true },
  ]) {
    const res = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
      token: buyer.accessToken,
      body,
    })
    t.equal(res.statusCode, 400, `refused: ${JSON.stringify(body)}`)
  }
  t.equal(
    (await call(app, 'POST', `/v1/offers/${o1.id}/counter`, { token: seller.accessToken, body: { amount: 0 } }))
      .statusCode,
    400,
  )

  const giveaway = await aConversation(app, { buyer, seller, listing: { type: 'giveaway' } })
  t.equal(
    (
      await call(app, 'POST', `/v1/conversations/${giveaway.conversation.id}/offers`, {
        token: buyer.accessToken,
        body: { amount: 100 },
      })
    ).json.code,
    'OFFER_NOT_ALLOWED',
  )

  // Another listing of the same seller may be named; someone else's may not.
  const other = await aListing(app.db, seller.id, { title: 'Matching armchair' })
  const onOther = await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
    token: buyer.accessToken,
    body: { listingId: other.id, amount: 50_000_00 },
  })
  t.equal(onOther.statusCode, 201)
  t.equal(onOther.json.listingId, other.id)
  const foreign = await aListing(app.db, buyer.id)
  t.equal(
    (
      await call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
        token: buyer.accessToken,
        body: { listingId: foreign.id, amount: 100 },
      })
    ).json.code,
    'LISTING_NOT_IN_CONVERSATION',
  )

  // A listing that sold (or was removed) takes no offers and no acceptances.
  const pending = await anOffer(app, buyer, conversation.id, 170_000_00)
  await app.db('listings').where('id', conversation.listing.id).update({ status: 'sold', sold_quantity: 1 })
  t.equal(
    (await call(app, 'POST', `/v1/offers/${pending.id}/accept`, { token: seller.accessToken })).json.code,
    'LISTING_NOT_AVAILABLE',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${pending.id}/counter`, { token: seller.accessToken, body: { amount: 1 } }))
      .json.code,
    'LISTING_NOT_AVAILABLE',
  )
  t.equal(
    (await call(app, 'POST', `/v1/offers/${pending.id}/withdraw`, { token: buyer.accessToken })).statusCode,
    200,
    'a pending offer can still be withdrawn',
  )

  // Blocked either way: no offers, no answers.
  const third = await aConversation(app, { seller })
  const waiting = await anOffer(app, third.buyer, third.conversation.id, 100_00)
  await app.db('blocks').insert({ blocker_id: seller.id, blocked_id: third.buyer.id })
  t.equal(
    (await call(app, 'POST', `/v1/offers/${waiting.id}/accept`, { token: seller.accessToken })).json.code,
    'BLOCKED',
  )
  await call(app, 'POST', `/v1/offers/${waiting.id}/withdraw`, { token: third.buyer.accessToken })
  const blocked = await call(app, 'POST', `/v1/conversations/${third.conversation.id}/offers`, {
    token: third.buyer.accessToken,
    body: { amount: 100_00 },
  })
  t.equal(blocked.statusCode, 403)
  t.equal(blocked.json.code, 'BLOCKED')
})

void t.test(
  'races: fifty answers to one offer and fifty offers at once each end with exactly one winner',
  async (t) => {
    const app = await build(t, { DATABASE_POOL_MAX: 20 })
    const { buyer, seller, conversation } = await aConversation(app)
    const offers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(app, 'POST', `/v1/conversations/${conversation.id}/offers`, {
          token: buyer.accessToken,
          body: { amount: 100_00 + i },
        }),
      ),
    )
    t.equal(offers.filter((r) => r.statusCode === 201).length, 1, 'one pending offer')
    t.ok(offers.filter((r) => r.statusCode !== 201).every((r) => r.json.code === 'OFFER_ALREADY_PENDING'))
    const offer = offers.find((r) => r.statusCode === 201)!.json

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const action = ['accept', 'decline', 'counter'][i % 3]!
        return call(app, 'POST', `/v1/offers/${offer.id}/${action}`, {
          token: seller.accessToken,
          body: action === 'counter' ? { amount: 999_00 } : {},
        })
      }),
    )
    t.equal(answers.filter((r) => r.statusCode < 300).length, 1, 'exactly one answer wins')
    t.ok(
      answers.filter((r) => r.statusCode >= 300).every((r) => r.json.code === 'OFFER_NOT_PENDING'),
      'the rest see it answered',
    )
    const rows = await app.db('offers').where('conversation_id', conversation.id).select('status')
    t.ok(rows.length <= 2 && rows.filter((r) => r.status === 'pending').length <= 1)
  },
)

void t.test('the accepted price holds for 48 h: into the cart and checkout, then expires', async (t) => {
  const app = await build(t)
  const { buyer, seller, listing, conversation } = await aConversation(app)
  const offer = await anOffer(app, buyer, conversation.id, 180_000_00)
  await call(app, 'POST', `/v1/offers/${offer.id}/accept`, { token: seller.accessToken })

  const put = await call(app, 'PUT', `/v1/cart/items/${listing.id}`, {
    token: buyer.accessToken,
    body: { quantity: 1 },
  })
  t.equal(put.statusCode, 200, put.body)
  const cart = await call(app, 'GET', '/v1/cart', { token: buyer.accessToken })
  t.match(cart.json.items[0], { listingId: listing.id, currentPrice: 180_000_00, offerId: offer.id })
  t.equal(cart.json.total, 180_000_00, 'the accepted offer replaces the list price')
  const checkout = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: { address },
    headers: { 'idempotency-key': 'offer-checkout-1' },
  })
  t.equal(checkout.statusCode, 201, checkout.body)
  t.equal(checkout.json.order.total, 180_000_00, 'checkout charges the offer price')
  t.equal(checkout.json.payment.amount, 180_000_00)

  // A second buyer whose hold has run out: the sweeper expires it and tells both sides.
  const late = await aConversation(app, { seller, listing: { quantity: 3 } })
  const lateOffer = await anOffer(app, late.buyer, late.conversation.id, 90_000_00)
  await call(app, 'POST', `/v1/offers/${lateOffer.id}/accept`, { token: seller.accessToken })
  await app
    .db('offers')
    .where('id', lateOffer.id)
    .update({ expires_at: app.db.raw("now() - interval '1 minute'") })
  const sweep = async () => (await app.sweeper.runOnce())['expire-accepted-offers']
  t.equal(await sweep(), 1)
  t.equal(
    (await call(app, 'GET', `/v1/offers/${lateOffer.id}`, { token: late.buyer.accessToken })).json.status,
    'expired',
  )
  const expiredEvents = await app
    .db('user_events')
    .where('event', 'offer:updated')
    .whereRaw("data->>'status' = 'expired'")
    .select('user_id')
  t.same(new Set(expiredEvents.map((e) => e.user_id)), new Set([late.buyer.id, seller.id]))
  t.equal(await sweep(), 0, 'nothing twice')
  // With the hold gone the buyer pays the list price again, and may negotiate anew.
  await call(app, 'PUT', `/v1/cart/items/${late.listing.id}`, { token: late.buyer.accessToken, body: { quantity: 1 } })
  t.equal(
    (await call(app, 'GET', '/v1/cart', { token: late.buyer.accessToken })).json.items[0].currentPrice,
    late.listing.price,
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/conversations/${late.conversation.id}/offers`, {
        token: late.buyer.accessToken,
        body: { amount: 95_000_00 },
      })
    ).statusCode,
    201,
  )
})

void t.test('a hold that ran out but was not swept yet does not block a new acceptance', async (t) => {
  const app = await build(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const first = await anOffer(app, buyer, conversation.id, 100_00)
  await call(app, 'POST', `/v1/offers/${first.id}/accept`, { token: seller.accessToken })
  await app
    .db('offers')
    .where('id', first.id)
    .update({ expires_at: app.db.raw("now() - interval '1 second'") })
  const second = await anOffer(app, buyer, conversation.id, 120_00)
  t.equal(
    (await call(app, 'GET', `/v1/offers/${first.id}`, { token: buyer.accessToken })).json.status,
    'expired',
    'expired lazily',
  )
  const accepted = await call(app, 'POST', `/v1/offers/${second.id}/accept`, { token: seller.accessToken })
  t.equal(accepted.json.status, 'accepted')
})
