import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aShipment } from './factories/trust.js'

void t.test('a buyer reviews a received shipment once; the seller replies once', async (t) => {
  const app = await build(t)
  const buyer = await aUser(app, { name: 'Bola' })
  const seller = await aUser(app)
  const stranger = await aUser(app)
  const { shipmentId, listingId } = await aShipment(app.db, buyer.id, seller.id)

  t.equal(
    (
      await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: seller.accessToken,
        body: { rating: 5, body: 'Great seller' },
      })
    ).json.code,
    'CANNOT_REVIEW_SELF',
    'a seller cannot review themself',
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: stranger.accessToken,
        body: { rating: 1, body: 'x' },
      })
    ).statusCode,
    404,
    'a stranger cannot review',
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: buyer.accessToken,
        body: { rating: 6, body: 'x' },
      })
    ).statusCode,
    400,
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: buyer.accessToken,
        body: { rating: 4.5, body: 'x' },
      })
    ).statusCode,
    400,
  )
  t.equal(
    (await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, { body: { rating: 4, body: 'x' } })).statusCode,
    401,
  )

  const created = await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
    token: buyer.accessToken,
    body: { rating: 4, body: 'Sofa as described' },
  })
  t.equal(created.statusCode, 201)
  t.equal(created.json.buyer.name, 'Bola')
  t.same(created.json.listings, [{ id: listingId, title: 'Three-seater sofa' }])
  t.equal(
    (
      await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: buyer.accessToken,
        body: { rating: 1, body: 'again' },
      })
    ).json.code,
    'ALREADY_REVIEWED',
  )

  const note = await app.db('notifications').where({ user_id: seller.id, type: 'review' }).first()
  t.same(note.data, { reviewId: created.json.id, rating: 4 }, 'the seller is notified')

  t.equal(
    (
      await call(app, 'POST', `/v1/reviews/${created.json.id}/reply`, {
        token: buyer.accessToken,
        body: { body: 'me' },
      })
    ).json.code,
    'NOT_THE_SELLER',
  )
  const reply = await call(app, 'POST', `/v1/reviews/${created.json.id}/reply`, {
    token: seller.accessToken,
    body: { body: 'Thank you!' },
  })
  t.equal(reply.statusCode, 200)
  t.equal(reply.json.reply.body, 'Thank you!')
  t.equal(
    (
      await call(app, 'POST', `/v1/reviews/${created.json.id}/reply`, {
        token: seller.accessToken,
        body: { body: 'again' },
      })
    ).json.code,
    'ALREADY_REPLIED',
  )

  const list = await call(app, 'GET', `/v1/users/${seller.id}/reviews`)
  t.equal(list.json.items.length, 1)
  t.same(list.json.summary, { average: 4, count: 1, histogram: { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 } })
  const byListing = await call(app, 'GET', `/v1/listings/${listingId}/reviews`)
  t.equal(byListing.json.items[0].id, created.json.id)
  t.equal(byListing.json.summary.count, 1)
  const profile = await call(app, 'GET', `/v1/users/${seller.id}`)
  t.same(profile.json.rating, { average: 4, count: 1 })
})

void t.test('unreceived shipments cannot be reviewed; concurrent double review counts once', async (t) => {
  const app = await build(t, { DATABASE_POOL_MAX: 20 })
  const buyer = await aUser(app)
  const seller = await aUser(app)
  for (const status of ['pending', 'sent', 'en_route', 'delivered', 'cancelled']) {
    const { shipmentId } = await aShipment(app.db, buyer.id, seller.id, { status })
    t.equal(
      (
        await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
          token: buyer.accessToken,
          body: { rating: 5, body: 'x' },
        })
      ).json.code,
      'SHIPMENT_NOT_RECEIVED',
      `not when ${status}`,
    )
  }
  const { shipmentId } = await aShipment(app.db, buyer.id, seller.id)
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
        token: buyer.accessToken,
        body: { rating: 5, body: `try ${i}` },
      }),
    ),
  )
  t.equal(results.filter((r) => r.statusCode === 201).length, 1)
  t.equal(results.filter((r) => r.json.code === 'ALREADY_REVIEWED').length, 19)
  t.same((await call(app, 'GET', `/v1/users/${seller.id}/reviews`)).json.summary.count, 1, 'the rating counted once')
})

void t.test('flags, the moderation queue, and hidden reviews leaving every average at once', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const seller = await aUser(app)
  const buyers = await Promise.all([aUser(app), aUser(app), aUser(app)])
  const ratings = [5, 1, 3]
  const reviewIds: string[] = []
  for (const [i, buyer] of buyers.entries()) {
    const { shipmentId } = await aShipment(app.db, buyer.id, seller.id)
    reviewIds.push(
      (
        await call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
          token: buyer.accessToken,
          body: { rating: ratings[i], body: `review ${i}` },
        })
      ).json.id,
    )
  }
  t.same((await call(app, 'GET', `/v1/users/${seller.id}`)).json.rating, { average: 3, count: 3 })

  const abusive = reviewIds[1]!
  t.equal(
    (
      await call(app, 'POST', `/v1/reviews/${abusive}/flags`, {
        token: seller.accessToken,
        body: { reason: 'insulting' },
      })
    ).statusCode,
    201,
  )
  const second = await call(app, 'POST', `/v1/reviews/${abusive}/flags`, {
    token: buyers[0]!.accessToken,
    body: { reason: 'spam' },
  })
  t.equal(second.json.openFlags, 2)
  t.equal(
    (await call(app, 'POST', `/v1/reviews/${abusive}/flags`, { token: seller.accessToken, body: { reason: 'again' } }))
      .json.code,
    'ALREADY_FLAGGED',
  )
  t.equal((await call(app, 'POST', `/v1/reviews/${abusive}/flags`, { body: { reason: 'anon' } })).statusCode, 401)

  t.equal((await call(app, 'GET', '/v1/admin/reviews', { token: seller.accessToken })).statusCode, 403)
  const queue = await call(app, 'GET', '/v1/admin/reviews?status=flagged', { token: admin.accessToken })
  t.same(
    queue.json.items.map((r: { id: string }) => r.id),
    [abusive],
  )
  t.equal(queue.json.items[0].flags.length, 2)

  t.equal(
    (
      await call(app, 'POST', `/v1/admin/reviews/${abusive}/moderate`, {
        token: admin.accessToken,
        body: { action: 'hide' },
      })
    ).statusCode,
    400,
    'a note is required',
  )
  const hidden = await call(app, 'POST', `/v1/admin/reviews/${abusive}/moderate`, {
    token: admin.accessToken,
    body: { action: 'hide', note: 'abusive language' },
  })
  t.equal(hidden.statusCode, 200)
  t.equal(hidden.json.status, 'hidden')
  t.same(
    (await call(app, 'GET', `/v1/users/${seller.id}`)).json.rating,
    { average: 4, count: 2 },
    'profile average without it',
  )
  const pub = await call(app, 'GET', `/v1/users/${seller.id}/reviews`)
  t.same(pub.json.summary.histogram, { 1: 0, 2: 0, 3: 1, 4: 0, 5: 1 })
  t.notOk(
    pub.json.items.some((r: { id: string }) => r.id === abusive),
    'gone from the public list',
  )
  t.equal(
    (await call(app, 'GET', '/v1/admin/reviews?status=flagged', { token: admin.accessToken })).json.items.length,
    0,
  )
  t.equal(
    (await call(app, 'POST', `/v1/reviews/${abusive}/flags`, { token: buyers[2]!.accessToken, body: { reason: 'x' } }))
      .statusCode,
    404,
    'hidden reviews cannot be flagged',
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/reviews/${abusive}/moderate`, {
        token: admin.accessToken,
        body: { action: 'hide', note: 'again' },
      })
    ).json.code,
    'ALREADY_HIDDEN',
  )

  const restored = await call(app, 'POST', `/v1/admin/reviews/${abusive}/moderate`, {
    token: admin.accessToken,
    body: { action: 'restore', note: 'appeal upheld' },
  })
  t.equal(restored.json.status, 'visible')
  t.same(
    (await call(app, 'GET', `/v1/users/${seller.id}`)).json.rating,
    { average: 3, count: 3 },
    'back in the average',
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/reviews/${abusive}/moderate`, {
        token: admin.accessToken,
        body: { action: 'restore', note: 'x' },
      })
    ).json.code,
    'NOT_HIDDEN',
  )

  await call(app, 'POST', `/v1/reviews/${reviewIds[0]}/flags`, { token: seller.accessToken, body: { reason: 'fake?' } })
  const dismissed = await call(app, 'POST', `/v1/admin/reviews/${reviewIds[0]}/moderate`, {
    token: admin.accessToken,
    body: { action: 'dismiss_flags', note: 'genuine' },
  })
  t.equal(dismissed.json.openFlags, 0)
  t.equal(dismissed.json.status, 'visible')
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/reviews/${reviewIds[0]}/moderate`, {
        token: admin.accessToken,
        body: { action: 'dismiss_flags', note: 'again' },
      })
    ).json.code,
    'NO_OPEN_FLAGS',
  )

  const audit = await app
    .db('audit_log')
    .where('target_type', 'review')
    .orderBy('position')
    .select('action', 'actor_id', 'note')
  t.same(
    audit.map((a) => a.action),
    ['admin.review_hidden', 'admin.review_restored', 'admin.review_flags_dismissed'],
  )
  t.ok(audit.every((a) => a.actor_id === admin.id))
  const row = await app.db('seller_ratings').where('seller_id', seller.id).first()
  t.same([row.stars_1, row.stars_3, row.stars_5], [1, 1, 1], 'counters match the visible reviews')
})
