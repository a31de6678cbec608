import t from 'tap'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { connect, openFeed, startNodes } from './helpers/nodes.js'

const address = {
  fullName: 'Ada Buyer',
  phone: '+2348012345678',
  line1: '1 Marina Road',
  city: 'Lagos',
  state: 'Lagos',
}

void t.test('everything appended to the spine on one node reaches sockets and feeds on every node', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const [u1, u2, u3] = await Promise.all([aUser(a!.app), aUser(a!.app), aUser(a!.app)])
  const c1 = await connect(t, a!, { token: u1.accessToken })
  const c2 = await connect(t, b!, { token: u2.accessToken })
  const f3 = await openFeed(t, a!, { token: u3.accessToken })
  const ctx = { db: b!.app.db, log: b!.app.log }

  // A price drop fans out (set-based) to three users from node B.
  const notes = await b!.app.spine.transaction(ctx, (tx) =>
    b!.app.spine.notify(tx, [u1.id, u2.id, u3.id], 'price_drop', {
      listingId: 'l-1',
      oldPrice: 5000,
      newPrice: 4000,
      currency: 'NGN',
    }),
  )
  for (const [name, client, user] of [
    ['socket on A', c1, u1],
    ['socket on B', c2, u2],
    ['feed on A', f3, u3],
  ] as const) {
    const got = await client.recorder.next('notification:new')
    const note = notes.find((n) => n.userId === user.id)!
    t.same(
      got.payload,
      {
        seq: 1,
        data: {
          id: note.id,
          type: 'price_drop',
          data: { listingId: 'l-1', oldPrice: 5000, newPrice: 4000, currency: 'NGN' },
          readAt: null,
          createdAt: note.createdAt.toISOString(),
        },
      },
      `${name}: notification:new`,
    )
  }

  // Order status to the buyer and the seller, as the commerce feature appends it.
  const status = { orderId: 'o-1', paymentStatus: 'paid', shipments: [{ id: 's-1', status: 'sent' }] }
  await b!.app.spine.transaction(ctx, (tx) =>
    b!.app.spine.append(tx, [
      { userId: u1.id, event: 'order:status', data: status },
      { userId: u3.id, event: 'order:status', data: status },
    ]),
  )
  t.same((await c1.recorder.next('order:status')).payload, { seq: 2, data: status })
  t.same(
    (await f3.recorder.next('order:status')).payload,
    { seq: 2, data: status },
    'the feed frame carries the same event, seq and data',
  )

  // An event of a kind the protocol does not know yet still flows, under its own name.
  await a!.app.spine.transaction({ db: a!.app.db, log: a!.app.log }, (tx) =>
    a!.app.spine.append(tx, [{ userId: u2.id, event: 'listing:updated', data: { id: 'l-1' } }]),
  )
  t.same((await c2.recorder.next('listing:updated')).payload, { seq: 2, data: { id: 'l-1' } })
  // A rolled-back transaction publishes nothing; the next event proves it (same seq, no gap).
  await t.rejects(
    b!.app.spine.transaction(ctx, async (tx) => {
      await b!.app.spine.append(tx, [
        {
          userId: u1.id,
          event: 'order:status',
          data: { orderId: 'rolled-back', paymentStatus: 'paid', shipments: [] },
        },
      ])
      throw new Error('boom')
    }),
  )
  await b!.app.spine.transaction(ctx, (tx) =>
    b!.app.spine.append(tx, [{ userId: u1.id, event: 'order:status', data: { ...status, orderId: 'o-2' } }]),
  )
  await c1.recorder.next('order:status', (d) => d.orderId === 'o-2')
  t.same(
    c1.recorder.received.map((r) => [r.payload.seq, r.payload.data.orderId ?? r.payload.data.type]),
    [
      [1, 'price_drop'],
      [2, 'o-1'],
      [3, 'o-2'],
    ],
  )
})

void t.test(
  'real flows: a price drop on node B and a shipment update on node B reach the buyer on node A live',
  async (t) => {
    const {
      nodes: [a, b],
    } = await startNodes(t, 2)
    const [buyer, seller] = await Promise.all([aUser(a!.app), aUser(a!.app)])
    const sofa = await aListing(a!.app.db, seller.id, { price: 300_000_00 })
    const buyerA = await connect(t, a!, { token: buyer.accessToken })
    const feedA = await openFeed(t, a!, { token: buyer.accessToken })
    t.equal(
      (await call(a!.app, 'PUT', `/v1/me/wishlist/${sofa.id}`, { token: buyer.accessToken })).statusCode < 300,
      true,
    )

    // The drop reaches wishlisters through the price-drop workers (these nodes run no
    // background loops of their own).
    for (const node of [a!, b!]) node.app.priceDrops.start()
    const patch = await call(b!.app, 'PATCH', `/v1/listings/${sofa.id}`, {
      token: seller.accessToken,
      body: { price: 250_000_00 },
    })
    t.equal(patch.statusCode, 200, patch.body)
    const drop = await buyerA.recorder.next('notification:new', (n) => n.type === 'price_drop')
    t.match(drop.payload.data.data, { listingId: sofa.id, oldPrice: 300_000_00, newPrice: 250_000_00 })
    await feedA.recorder.next('notification:new', (n) => n.type === 'price_drop')

    // A giveaway checks out at once (nothing to pay); the seller marks it sent on node B.
    const gift = await aListing(a!.app.db, seller.id, { type: 'giveaway', title: 'Free lamp' })
    await call(a!.app, 'PUT', `/v1/cart/items/${gift.id}`, { token: buyer.accessToken, body: { quantity: 1 } })
    await call(a!.app, 'DELETE', `/v1/cart/items/${sofa.id}`, { token: buyer.accessToken })
    const checkout = await call(a!.app, 'POST', '/v1/checkout', {
      token: buyer.accessToken,
      body: { address },
      headers: { 'idempotency-key': 'gift-1' },
    })
    t.equal(checkout.statusCode, 201, checkout.body)
    const order = checkout.json.order
    const shipmentId = order.shipments[0].id
    const sent = await call(b!.app, 'POST', `/v1/shipments/${shipmentId}/status`, {
      token: seller.accessToken,
      body: { status: 'sent', trackingNumber: 'TRK-1', carrier: 'GIG' },
    })
    t.equal(sent.statusCode, 200, sent.body)
    const live = await buyerA.recorder.next(
      'order:status',
      (d) => d.orderId === order.id && d.shipments?.some((s: { status: string }) => s.status === 'sent'),
    )
    t.match(live.payload.data, { orderId: order.id, shipments: [{ id: shipmentId, status: 'sent' }] })
    await feedA.recorder.next(
      'order:status',
      (d) => d.orderId === order.id && d.shipments?.some((s: { status: string }) => s.status === 'sent'),
    )
    t.same(
      buyerA.recorder.seqs(),
      [...buyerA.recorder.seqs()].sort((x, y) => x - y),
    )
  },
)
