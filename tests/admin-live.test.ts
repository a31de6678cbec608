/**
 * The admin live room: admins' connections (Socket.IO and the plain feed, on every node) get
 * `admin:flag`, `admin:report` and `admin:dispute` as they happen, after commit, through the
 * Redis adapter; nobody else does, and nothing is stored per user.
 */
import t from 'tap'
import { call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aShipment } from './factories/trust.js'
import { connect, openFeed, startNodes, type Recorder } from './helpers/nodes.js'

/** Waits until `recorder` has `event` matching `where`, then checks nothing else of it came. */
async function only(recorder: Recorder, event: string, where: (data: Record<string, unknown>) => boolean) {
  await recorder.next(event, where)
  return recorder.of(event)
}

void t.test('admins on every node hear of reports and flags made through another; nobody else does', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const admin = await anAdmin(a!.app)
  const [user, reporter, seller] = await Promise.all([
    aUser(a!.app, { name: 'Ordinary' }),
    aUser(a!.app, { name: 'Reporter' }),
    aUser(a!.app, { name: 'Seller' }),
  ])
  const listing = await aListing(a!.app.db, seller.id)

  const adminSocket = await connect(t, b!, { token: admin.accessToken })
  const adminFeed = await openFeed(t, a!, { token: admin.accessToken })
  const userSocket = await connect(t, b!, { token: user.accessToken })
  const userFeed = await openFeed(t, a!, { token: user.accessToken })
  t.equal(b!.realtime.hub.adminCount, 1, "the admin's socket is an admin connection on B")
  t.equal(a!.realtime.hub.adminCount, 1, "and the admin's feed one on A")
  const room = await b!.realtime.io.in('admins').fetchSockets()
  t.same(
    room.map((s) => s.data.actor.id),
    [admin.id],
    'only the admin joined the admins room',
  )

  // A report through node A reaches the admin's socket on node B (and the feed on A).
  const report = await call(a!.app, 'POST', `/v1/listings/${listing.id}/reports`, {
    token: reporter.accessToken,
    body: { reason: 'scam', detail: 'Asks for payment outside Oja' },
  })
  t.equal(report.statusCode, 201)
  const expected = { listingId: listing.id, reportId: report.json.id, reason: 'scam' }
  const got = await adminSocket.recorder.next('admin:report')
  t.same(got.payload, { data: expected }, 'the socket gets {data} and no seq: it is not stored')
  const framed = await adminFeed.recorder.next('admin:report')
  t.same(framed.payload, { data: expected }, 'the feed frame has seq null')

  // A refused report (the same reporter again) broadcasts nothing.
  const again = await call(a!.app, 'POST', `/v1/listings/${listing.id}/reports`, {
    token: reporter.accessToken,
    body: { reason: 'other' },
  })
  t.equal(again.statusCode, 409)

  // A flagged review, through node B this time.
  const shipment = await aShipment(a!.app.db, reporter.id, seller.id)
  const review = await call(b!.app, 'POST', `/v1/shipments/${shipment.shipmentId}/reviews`, {
    token: reporter.accessToken,
    body: { rating: 2, body: 'Not as described' },
  })
  t.equal(review.statusCode, 201)
  const flag = await call(b!.app, 'POST', `/v1/reviews/${review.json.id}/flags`, {
    token: seller.accessToken,
    body: { reason: 'This buyer never received it from me' },
  })
  t.equal(flag.statusCode, 201)
  const flagData = { reviewId: review.json.id, reason: 'This buyer never received it from me' }
  t.same(
    (await only(adminFeed.recorder, 'admin:flag', () => true)).map((r) => r.payload),
    [{ data: flagData }],
    'admin:flag to the feed on the other node',
  )
  t.same(
    (await only(adminSocket.recorder, 'admin:flag', () => true)).map((r) => r.payload),
    [{ data: flagData }],
  )
  t.same(
    adminSocket.recorder.of('admin:report').map((r) => r.payload),
    [{ data: expected }],
    'one admin:report: the refused report sent none',
  )

  // Something stored for the ordinary user from node A after all that: once it has reached
  // them on both nodes, anything for admins sent before it would have too.
  await a!.app.spine.transaction({ db: a!.app.db, log: a!.app.log }, (tx) =>
    a!.app.spine.append(tx, [{ userId: user.id, event: 'order:status', data: { orderId: 'sentinel' } }]),
  )
  await userSocket.recorder.next('order:status')
  await userFeed.recorder.next('order:status')
  for (const [name, recorder] of [
    ['socket', userSocket.recorder],
    ['feed', userFeed.recorder],
  ] as const)
    t.same(
      recorder.received.filter((r) => r.event.startsWith('admin:')),
      [],
      `the ordinary user's ${name} gets no admin event`,
    )

  const stored = await a!.app.db('user_events').where('event', 'like', 'admin:%').count({ n: '*' }).first()
  t.equal(Number(stored?.n), 0, 'nothing stored in user_events for admins')
  const adminEvents = await call(a!.app, 'GET', '/v1/me/events', { token: admin.accessToken })
  t.same(
    (adminEvents.json.items as { event: string }[]).filter((e) => e.event.startsWith('admin:')),
    [],
    "the admin's resync holds none either (only the stored notifications that reach their devices)",
  )
  t.ok(
    (adminEvents.json.items as { event: string; data: { type?: string } }[]).some(
      (e) => e.event === 'notification:new' && e.data.type === 'listing_reported',
    ),
    'the report is also a stored notification, for the admins’ devices',
  )
})

void t.test('an admin demoted stops hearing admin events at the next token refresh', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const admin = await anAdmin(a!.app)
  const [reporter, seller] = await Promise.all([aUser(a!.app), aUser(a!.app)])
  const [one, two] = await Promise.all([aListing(a!.app.db, seller.id), aListing(a!.app.db, seller.id)])
  const socket = await connect(t, b!, { token: admin.accessToken })

  const report = (listingId: string) =>
    call(a!.app, 'POST', `/v1/listings/${listingId}/reports`, { token: reporter.accessToken, body: { reason: 'scam' } })
  t.equal((await report(one.id)).statusCode, 201)
  await socket.recorder.next('admin:report', (d) => d.listingId === one.id)

  // Demoted (npm run admin -- demote); the next access token of the same session says so.
  await a!.app.db('users').where('id', admin.id).update({ role: 'user' })
  const refreshed = await call(a!.app, 'POST', '/v1/auth/refresh', { body: { refreshToken: admin.refreshToken } })
  t.equal(refreshed.statusCode, 200)
  const ack = await new Promise<{ ok: boolean }>((resolve) =>
    (socket.socket as unknown as { emit(e: string, p: unknown, cb: (r: { ok: boolean }) => void): void }).emit(
      'auth:refresh',
      { token: refreshed.json.accessToken },
      resolve,
    ),
  )
  t.ok(ack.ok)
  t.equal(b!.realtime.hub.adminCount, 0, 'no admin connection left on B')
  t.same(await b!.realtime.io.in('admins').fetchSockets(), [], 'and the socket left the admins room')

  t.equal((await report(two.id)).statusCode, 201)
  // A stored event sent after the second report: once it arrives, the report would have.
  await a!.app.spine.transaction({ db: a!.app.db, log: a!.app.log }, (tx) =>
    a!.app.spine.append(tx, [{ userId: admin.id, event: 'order:status', data: { orderId: 'sentinel' } }]),
  )
  await socket.recorder.next('order:status')
  t.same(
    socket.recorder.of('admin:report').map((r) => r.payload.data.listingId),
    [one.id],
    'only the report made while an admin',
  )
})
