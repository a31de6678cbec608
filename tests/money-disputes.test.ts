/**
 * Seller money, disputes: a buyer's dispute holds a shipment's money (pending → on hold)
 * until an admin releases it, refunds it through Paystack or splits it; receipt, hand-over
 * and the escrow sweeper leave held money alone; the thread between buyer, seller and admins.
 * Every test ends with the ledger check and the reconciliation with the Paystack fake
 * (tests/helpers/reconcile.ts through commerceApp).
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { AdminBroadcast } from '../src/events/index.js'
import { grossOfRefunded, lineSplit, mulDivRound, reversedAt } from '../src/ledger/index.js'
import { call, type Json, type TestApp } from './helpers/app.js'
import { aCoupon, commerceApp, paidOrder } from './factories/commerce.js'
import { aListing } from './factories/listings.js'
import { balanceOf, moveTo, paidSale, RATES } from './factories/money.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'

const SHARE = lineSplit(7_500_000, RATES).share // 7 096 875

const open = (
  app: TestApp,
  user: SignedInUser | undefined,
  shipmentId: string,
  body: unknown = { reason: 'damaged', detail: 'The left arm is broken' },
  headers: Record<string, string> = {},
) => call(app, 'POST', `/v1/shipments/${shipmentId}/disputes`, { token: user?.accessToken, body, headers })

const resolve = (app: TestApp, admin: SignedInUser, disputeId: string, body: Json) =>
  call(app, 'POST', `/v1/admin/disputes/${disputeId}/resolve`, {
    token: admin.accessToken,
    body: { note: 'Photos show the damage', ...body },
  })

async function opened(app: TestApp, buyer: SignedInUser, shipmentId: string): Promise<string> {
  const res = await open(app, buyer, shipmentId)
  if (res.statusCode !== 201) throw new Error(`open: ${res.statusCode} ${res.body}`)
  return res.json.id as string
}

async function notesOf(app: TestApp, user: SignedInUser, type = 'dispute'): Promise<Json[]> {
  const rows: { data: Json }[] = await app
    .db('notifications')
    .where({ user_id: user.id, type })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
  return rows.map((r) => r.data)
}

void t.test('the buyer opens a dispute: the money goes on hold; seller and admins are told', async (t) => {
  const toAdmins: AdminBroadcast[] = []
  const { app, paystack } = await commerceApp(
    t,
    {},
    { publisher: { publish: () => {}, toAdmins: (e) => toAdmins.push(...e) } },
  )
  const admin = await anAdmin(app)
  const stranger = await aUser(app)
  const { seller, buyer, order, shipmentId } = await paidSale(app, paystack)
  t.match(await balanceOf(app, seller), { pending: SHARE, onHold: 0 })

  t.equal((await open(app, undefined, shipmentId)).statusCode, 401)
  const bySeller = await open(app, seller, shipmentId)
  t.equal(bySeller.statusCode, 403, 'not the seller')
  t.equal(bySeller.json.code, 'FORBIDDEN')
  t.equal((await open(app, admin, shipmentId)).statusCode, 403, 'nor an admin')
  t.equal((await open(app, stranger, shipmentId)).statusCode, 404, 'a stranger does not learn it exists')
  t.equal((await open(app, buyer, randomUUID())).statusCode, 404)
  for (const body of [
    { reason: 'changed_my_mind', detail: 'x' },
    { reason: 'damaged', detail: '' },
    { reason: 'damaged', detail: '   ' },
    { reason: 'damaged', detail: 'x'.repeat(2001) },
    { reason: 'damaged' },
    { reason: 'damaged', detail: 'x', extra: 1 },
  ]) {
    const bad = await open(app, buyer, shipmentId, body)
    t.equal(bad.statusCode, 400, `refused: ${JSON.stringify(body).slice(0, 60)}`)
    t.equal(bad.json.code, 'VALIDATION_FAILED')
  }
  t.match(await balanceOf(app, seller), { pending: SHARE, onHold: 0 }, 'nothing held by refused opens')

  const key = randomUUID()
  const res = await open(app, buyer, shipmentId, undefined, { 'idempotency-key': key })
  t.equal(res.statusCode, 201)
  const id = res.json.id as string
  t.equal(res.headers.location, `/v1/disputes/${id}`)
  t.match(res.json, {
    shipmentId,
    orderId: order.id,
    buyerId: buyer.id,
    sellerId: seller.id,
    reason: 'damaged',
    detail: 'The left arm is broken',
    status: 'open',
    outcome: null,
    refundAmount: null,
    currency: 'NGN',
    resolvedAt: null,
  })
  t.same(await balanceOf(app, seller), {
    currency: 'NGN',
    pending: 0,
    available: 0,
    onHold: SHARE,
    inTransit: 0,
    paidOut: 0,
  })

  const replay = await open(app, buyer, shipmentId, undefined, { 'idempotency-key': key })
  t.equal(replay.statusCode, 201, 'the same key replays the first answer')
  t.same(replay.json, res.json)
  const reused = await open(
    app,
    buyer,
    shipmentId,
    { reason: 'other', detail: 'Another text' },
    { 'idempotency-key': key },
  )
  t.equal(reused.statusCode, 409)
  t.equal(reused.json.code, 'IDEMPOTENCY_KEY_REUSED')
  const twice = await open(app, buyer, shipmentId, { reason: 'other', detail: 'Again' })
  t.equal(twice.statusCode, 409, 'one open dispute per shipment')
  t.equal(twice.json.code, 'DISPUTE_EXISTS')
  t.equal(twice.json.disputeId ?? twice.json.data?.disputeId, id, 'the answer names the open dispute')
  t.equal(
    await app
      .db('disputes')
      .where('shipment_id', shipmentId)
      .count('* as n')
      .first()
      .then((r: Json) => Number(r.n)),
    1,
  )

  const ledger = await call(app, 'GET', '/v1/me/ledger?limit=2', { token: seller.accessToken })
  t.same(
    ledger.json.items.map((e: Json) => [e.type, e.bucket, e.amount, e.disputeId]).sort(),
    [
      ['hold', 'on_hold', SHARE, id],
      ['hold', 'pending', -SHARE, id],
    ],
    'the hold is in the seller’s ledger with its dispute',
  )

  t.same(await notesOf(app, seller), [{ disputeId: id, status: 'open', shipmentId, orderId: order.id }])
  t.same(await notesOf(app, admin), [{ disputeId: id, status: 'open', shipmentId, orderId: order.id }])
  t.same(await notesOf(app, buyer), [], 'the buyer is not told of their own dispute')
  const adminEvents = await call(app, 'GET', '/v1/me/events', { token: admin.accessToken })
  t.ok(
    adminEvents.json.items.some((e: Json) => e.event === 'notification:new' && e.data.type === 'dispute'),
    'admins get the stored notification',
  )
  t.notOk(
    adminEvents.json.items.some((e: Json) => e.event === 'admin:dispute'),
    'admin:dispute is a live broadcast to admins (tests/admin-live.test.ts), never stored per admin',
  )
  t.same(
    toAdmins,
    [{ audience: 'admins', event: 'admin:dispute', data: { disputeId: id, shipmentId } }],
    'it is broadcast to admins once, after commit (refused opens and the replay broadcast nothing)',
  )
  const audit = await app.db('audit_log').where({ action: 'dispute.opened', target_id: id }).first()
  t.match(audit, { actor_id: buyer.id, target_type: 'dispute' })
  t.match(audit.after, { shipmentId, reason: 'damaged', onHold: SHARE })
})

void t.test('no dispute after release, on a giveaway, or on a cancelled order', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  await moveTo(app, seller, shipmentId, 'delivered')
  t.equal(
    (await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })).statusCode,
    200,
  )
  const late = await open(app, buyer, shipmentId)
  t.equal(late.statusCode, 409)
  t.equal(late.json.code, 'ALREADY_RELEASED')
  t.match(await balanceOf(app, seller), { available: SHARE, onHold: 0 })

  const gift = await aListing(app.db, seller.id, { type: 'giveaway', price: 0 })
  const giveaway = await paidOrder(app, paystack, buyer, [gift.id])
  const none = await open(app, buyer, giveaway.shipments[0].id)
  t.equal(none.statusCode, 409)
  t.equal(none.json.code, 'NOTHING_IN_ESCROW')

  const cancelled = await paidOrder(app, paystack, buyer, [(await aListing(app.db, seller.id, { price: 300_000 })).id])
  t.equal((await call(app, 'POST', `/v1/orders/${cancelled.id}/cancel`, { token: buyer.accessToken })).statusCode, 200)
  const gone = await open(app, buyer, cancelled.shipments[0].id)
  t.equal(gone.statusCode, 409)
  t.equal(gone.json.code, 'DISPUTE_NOT_OPENABLE')
  t.equal(
    await app
      .db('disputes')
      .count('* as n')
      .first()
      .then((r: Json) => Number(r.n)),
    0,
  )
})

void t.test('twenty concurrent opens of one shipment make one dispute and one hold', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) => open(app, buyer, shipmentId, { reason: 'not_received', detail: `try ${i}` })),
  )
  t.equal(answers.filter((a) => a.statusCode === 201).length, 1, 'one 201')
  t.ok(
    answers.every((a) => a.statusCode === 201 || (a.statusCode === 409 && a.json.code === 'DISPUTE_EXISTS')),
    'the rest 409 DISPUTE_EXISTS',
  )
  t.equal(
    await app
      .db('disputes')
      .where('shipment_id', shipmentId)
      .count('* as n')
      .first()
      .then((r: Json) => Number(r.n)),
    1,
  )
  t.equal(
    await app
      .db('ledger_journals')
      .where('kind', 'hold')
      .count('* as n')
      .first()
      .then((r: Json) => Number(r.n)),
    1,
    'one hold journal',
  )
  t.match(await balanceOf(app, seller), { pending: 0, onHold: SHARE })
})

void t.test('money on hold: receipt, the hand-over code and the sweeper release nothing', async (t) => {
  const { app, paystack } = await commerceApp(t, { ESCROW_RELEASE_DAYS: 0.00001 }) // under a second
  const admin = await anAdmin(app)
  const seller = await aUser(app, { name: 'Sade Seller' })
  const buyer = await aUser(app, { name: 'Bola Buyer' })
  const orders = []
  for (const price of [7_500_000, 2_000_000, 1_000_000])
    orders.push(await paidOrder(app, paystack, buyer, [(await aListing(app.db, seller.id, { price })).id]))
  const [received, handedOver, control] = orders.map((o) => o.shipments[0].id as string) as [string, string, string]
  const shares = [7_500_000, 2_000_000, 1_000_000].map((p) => lineSplit(p, RATES).share) as [number, number, number]
  const d1 = await opened(app, buyer, received)
  const d2 = await opened(app, buyer, handedOver)
  for (const id of [received, handedOver, control]) await moveTo(app, seller, id, 'delivered')
  t.match(await balanceOf(app, seller), { pending: shares[2], onHold: shares[0] + shares[1], available: 0 })

  const confirm = await call(app, 'POST', `/v1/shipments/${received}/received`, { token: buyer.accessToken })
  t.equal(confirm.statusCode, 200, 'the buyer may still confirm receipt')
  t.equal(confirm.json.shipments[0].status, 'received')
  const code = (await call(app, 'GET', `/v1/orders/${orders[1].id}`, { token: buyer.accessToken })).json.shipments[0]
    .handoverCode as string
  const handover = await call(app, 'POST', `/v1/shipments/${handedOver}/handover`, {
    token: seller.accessToken,
    body: { code },
  })
  t.equal(handover.statusCode, 200, 'and the seller hand it over')
  t.equal(handover.json.shipments[0].status, 'received')
  t.match(
    await balanceOf(app, seller),
    { pending: shares[2], onHold: shares[0] + shares[1], available: 0 },
    'but the disputed money stays on hold',
  )

  await new Promise((r) => setTimeout(r, 1_000))
  t.equal(await app.releaseEscrow(), 1, 'the sweeper releases the undisputed shipment only')
  t.match(await balanceOf(app, seller), { pending: 0, onHold: shares[0] + shares[1], available: shares[2] })
  t.same(
    (await notesOf(app, seller, 'funds_released')).map((n) => n.shipmentId),
    [control],
    'no funds_released for held money',
  )

  // Released by the decision, once, whatever the shipment's status.
  const r1 = await resolve(app, admin, d1, { outcome: 'release' })
  t.equal(r1.statusCode, 200)
  t.match(await balanceOf(app, seller), { onHold: shares[1], available: shares[2] + shares[0] })
  t.match((await notesOf(app, seller, 'funds_released')).at(-1), {
    shipmentId: received,
    amount: shares[0],
    reason: 'dispute',
  })
  t.equal(await app.releaseEscrow(), 0)
  t.equal((await resolve(app, admin, d2, { outcome: 'release' })).statusCode, 200)
  t.match(await balanceOf(app, seller), { pending: 0, onHold: 0, available: shares[0] + shares[1] + shares[2] })
})

void t.test('the thread: buyer, seller and admins write; the others are told; strangers see nothing', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const stranger = await aUser(app)
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  const id = await opened(app, buyer, shipmentId)
  const write = (user: SignedInUser | undefined, body: unknown, headers: Record<string, string> = {}) =>
    call(app, 'POST', `/v1/disputes/${id}/messages`, { token: user?.accessToken, body, headers })

  const key = randomUUID()
  const m1 = await write(buyer, { body: 'It arrived broken' }, { 'idempotency-key': key })
  t.equal(m1.statusCode, 201)
  t.equal(m1.headers.location, `/v1/disputes/${id}`)
  t.match(m1.json, { disputeId: id, authorId: buyer.id, authorRole: 'buyer', body: 'It arrived broken' })
  t.same((await write(buyer, { body: 'It arrived broken' }, { 'idempotency-key': key })).json, m1.json, 'replayed')
  const m2 = await write(seller, { body: 'It left here whole' })
  t.equal(m2.statusCode, 201)
  t.equal(m2.json.authorRole, 'seller')
  const m3 = await write(admin, { body: 'Please send photos' })
  t.equal(m3.statusCode, 201)
  t.equal(m3.json.authorRole, 'admin')
  t.equal((await write(stranger, { body: 'Hello' })).statusCode, 404)
  t.equal((await write(undefined, { body: 'Hello' })).statusCode, 401)
  t.equal((await write(buyer, { body: '' })).statusCode, 400)
  t.equal((await write(buyer, { body: 'x'.repeat(2001) })).statusCode, 400)
  t.equal((await write(buyer, {})).statusCode, 400)

  const about = (notes: Json[]) => notes.filter((n) => n.messageId).map((n) => n.messageId)
  t.same(about(await notesOf(app, buyer)), [m2.json.id, m3.json.id], 'the buyer hears of the others’ messages')
  t.same(about(await notesOf(app, seller)), [m1.json.id, m3.json.id], 'the seller too')
  t.same(about(await notesOf(app, admin)), [m1.json.id, m2.json.id], 'admins of the parties’')
  t.match((await notesOf(app, seller)).at(-1), { disputeId: id, status: 'open' })

  for (const user of [buyer, seller, admin]) {
    const got = await call(app, 'GET', `/v1/disputes/${id}`, { token: user.accessToken })
    t.equal(got.statusCode, 200)
    t.same(
      got.json.messages.map((m: Json) => m.id),
      [m1.json.id, m2.json.id, m3.json.id],
      'the thread, oldest first',
    )
    t.equal(got.headers['cache-control'], 'private, no-store')
  }
  t.equal((await call(app, 'GET', `/v1/disputes/${id}`, { token: stranger.accessToken })).statusCode, 404)
  t.equal((await call(app, 'GET', `/v1/disputes/${randomUUID()}`, { token: buyer.accessToken })).statusCode, 404)

  t.equal((await resolve(app, admin, id, { outcome: 'release' })).statusCode, 200)
  const closed = await write(buyer, { body: 'But wait' })
  t.equal(closed.statusCode, 409)
  t.equal(closed.json.code, 'DISPUTE_RESOLVED')
  for (const user of [buyer, seller])
    t.match((await notesOf(app, user)).at(-1), { disputeId: id, status: 'resolved', outcome: 'release' })
})

void t.test('lists: my disputes as buyer or seller, every dispute for admins, by status, paged', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const stranger = await aUser(app)
  const seller = await aUser(app, { name: 'Sade Seller' })
  const buyer = await aUser(app, { name: 'Bola Buyer' })
  const ids: string[] = []
  for (let i = 0; i < 5; i++) {
    const order = await paidOrder(app, paystack, buyer, [
      (await aListing(app.db, seller.id, { price: 100_000 + i })).id,
    ])
    ids.push(await opened(app, buyer, order.shipments[0].id))
  }
  t.equal((await resolve(app, admin, ids[0]!, { outcome: 'release' })).statusCode, 200)

  const pages = async (user: SignedInUser, path: string) => {
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res = await call(
        app,
        'GET',
        `${path}${path.includes('?') ? '&' : '?'}limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: user.accessToken },
      )
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body}`)
      seen.push(...res.json.items.map((d: Json) => d.id as string))
      cursor = res.json.nextCursor
    } while (cursor)
    return seen
  }
  const newestFirst = [...ids].reverse()
  t.same(await pages(buyer, '/v1/disputes'), newestFirst, 'the buyer’s, newest first, no gaps or repeats')
  t.same(await pages(seller, '/v1/disputes'), newestFirst, 'the seller’s')
  t.same(await pages(seller, '/v1/disputes?status=open'), newestFirst.slice(0, 4))
  t.same(await pages(buyer, '/v1/disputes?status=resolved'), [ids[0]])
  t.same(await pages(stranger, '/v1/disputes'), [], 'nobody else’s')
  t.same(await pages(admin, '/v1/disputes'), [], 'an admin’s own list holds their own disputes')
  t.same(await pages(admin, '/v1/admin/disputes'), newestFirst, 'the admin list holds all')
  t.same(await pages(admin, '/v1/admin/disputes?status=open'), newestFirst.slice(0, 4))
  t.same(await pages(admin, '/v1/admin/disputes?status=resolved'), [ids[0]])
  t.equal((await call(app, 'GET', '/v1/admin/disputes', { token: buyer.accessToken })).statusCode, 403)
  const bad = await call(app, 'GET', '/v1/admin/disputes?status=closed', { token: admin.accessToken })
  t.equal(bad.statusCode, 400)
  const forged = await call(app, 'GET', '/v1/disputes?cursor=abc.def', { token: buyer.accessToken })
  t.equal(forged.statusCode, 400)
})

void t.test('resolve release: the seller gets it all; twice is 409; admins only', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  const id = await opened(app, buyer, shipmentId)
  t.equal((await resolve(app, seller, id, { outcome: 'release' })).statusCode, 403)
  t.equal((await resolve(app, buyer, id, { outcome: 'refund' })).statusCode, 403)
  t.equal((await resolve(app, admin, randomUUID(), { outcome: 'release' })).statusCode, 404)
  const noNote = await call(app, 'POST', `/v1/admin/disputes/${id}/resolve`, {
    token: admin.accessToken,
    body: { outcome: 'release' },
  })
  t.equal(noNote.statusCode, 400, 'a note is required')
  const withAmount = await resolve(app, admin, id, { outcome: 'release', refundAmount: 100 })
  t.equal(withAmount.statusCode, 400, 'refundAmount only goes with split')
  t.equal(withAmount.json.code, 'VALIDATION_FAILED')

  const res = await resolve(app, admin, id, { outcome: 'release' })
  t.equal(res.statusCode, 200)
  t.match(res.json, {
    id,
    status: 'resolved',
    outcome: 'release',
    refundAmount: null,
    refundId: null,
    resolutionNote: 'Photos show the damage',
  })
  t.ok(res.json.resolvedAt)
  t.same(await balanceOf(app, seller), {
    currency: 'NGN',
    pending: 0,
    available: SHARE,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })
  t.equal(paystack.refunds.length, 0, 'no refund')
  const again = await resolve(app, admin, id, { outcome: 'refund' })
  t.equal(again.statusCode, 409)
  t.equal(again.json.code, 'DISPUTE_RESOLVED')
  t.equal((await balanceOf(app, seller)).available, SHARE, 'nothing moved the second time')
  const audit = await app.db('audit_log').where({ action: 'admin.dispute_resolved', target_id: id }).first()
  t.match(audit, { actor_id: admin.id, note: 'Photos show the damage' })
  t.match(audit.after, { outcome: 'release', refundAmount: 0, released: SHARE })
  const entries = await call(app, 'GET', '/v1/me/ledger?limit=4', { token: seller.accessToken })
  t.same(
    entries.json.items.map((e: Json) => [e.type, e.bucket, e.amount]).sort(),
    [
      ['release', 'available', SHARE],
      ['release', 'pending', -SHARE],
      ['unhold', 'on_hold', -SHARE],
      ['unhold', 'pending', SHARE],
    ],
    'unhold, then release',
  )
  // Released money cannot be disputed again.
  t.equal((await open(app, buyer, shipmentId)).json.code, 'ALREADY_RELEASED')
})

void t.test(
  'resolve refund: the shipment’s payment goes back through Paystack, the seller keeps nothing',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const admin = await anAdmin(app)
    const { seller, buyer, order, shipmentId } = await paidSale(app, paystack)
    const id = await opened(app, buyer, shipmentId)
    const res = await resolve(app, admin, id, { outcome: 'refund' })
    t.equal(res.statusCode, 200)
    t.match(res.json, { status: 'resolved', outcome: 'refund', refundAmount: 7_500_000, refundStatus: 'processing' })
    t.same(
      paystack.refunds.map((r) => r.amount),
      [7_500_000],
      'Paystack refunded the shipment’s payment',
    )
    t.same(await balanceOf(app, seller), {
      currency: 'NGN',
      pending: 0,
      available: 0,
      onHold: 0,
      inTransit: 0,
      paidOut: 0,
    })
    const refund = await app.db('refunds').where('id', res.json.refundId).first()
    t.match(refund, { origin: 'dispute', shipment_id: shipmentId, amount: 7_500_000 })
    const after = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
    t.equal(after.json.paymentStatus, 'refunded')
    t.match(await app.ledger.escrowOf(app.db, shipmentId), { state: 'released', release_reason: 'dispute' })
    t.same(await notesOf(app, seller, 'funds_released'), [], 'nothing was released, so no funds_released')
    t.match((await notesOf(app, buyer)).at(-1), { disputeId: id, status: 'resolved', outcome: 'refund' })
  },
)

void t.test('resolve split: refundAmount to the buyer, the rest to the seller; bad amounts refused', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  const id = await opened(app, buyer, shipmentId)

  const missing = await resolve(app, admin, id, { outcome: 'split' })
  t.equal(missing.statusCode, 400, 'a split needs refundAmount')
  t.equal(missing.json.code, 'VALIDATION_FAILED')
  t.match(missing.json.errors, [{ path: '/refundAmount' }])
  const tooMuch = await resolve(app, admin, id, { outcome: 'split', refundAmount: 7_500_001 })
  t.equal(tooMuch.statusCode, 422)
  t.equal(tooMuch.json.code, 'REFUND_EXCEEDS_SHIPMENT')
  t.equal(tooMuch.json.refundable ?? tooMuch.json.data?.refundable, 7_500_000)
  t.equal((await resolve(app, admin, id, { outcome: 'split', refundAmount: 0 })).statusCode, 400)
  t.match(await balanceOf(app, seller), { onHold: SHARE }, 'refused decisions change nothing')
  t.equal(paystack.refunds.length, 0)

  const res = await resolve(app, admin, id, { outcome: 'split', refundAmount: 3_000_000 })
  t.equal(res.statusCode, 200)
  t.match(res.json, { outcome: 'split', refundAmount: 3_000_000 })
  t.same(
    paystack.refunds.map((r) => r.amount),
    [3_000_000],
  )
  const back = reversedAt(lineSplit(7_500_000, RATES), 3_000_000).share // 2 838 750
  t.same(await balanceOf(app, seller), {
    currency: 'NGN',
    pending: 0,
    available: SHARE - back,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })
  t.equal(SHARE - back, 4_258_125)
  t.match((await notesOf(app, seller, 'funds_released')).at(-1), { amount: 4_258_125, reason: 'dispute' })
})

void t.test('a coupon order refunds the shipment’s paid share; the other seller’s money is left alone', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const buyer = await aUser(app, { name: 'Bola Buyer' })
  const sofaSeller = await aUser(app, { name: 'Sade Sofas' })
  const lampSeller = await aUser(app, { name: 'Lola Lamps' })
  const sofa = await aListing(app.db, sofaSeller.id, { price: 7_500_000 })
  const lamp = await aListing(app.db, lampSeller.id, { price: 1_234_567 })
  const coupon = await aCoupon(app, { value: 10 })
  const order = await paidOrder(app, paystack, buyer, [sofa.id, lamp.id], { couponCode: coupon.code })
  const gross = 7_500_000 + 1_234_567
  t.equal(order.total, gross - Math.floor(gross / 10), 'the coupon took 10 %')
  const lampShipment = order.shipments.find((s: Json) => s.sellerId === lampSeller.id).id as string
  const sofaShipment = order.shipments.find((s: Json) => s.sellerId === sofaSeller.id).id as string
  const lampShare = lineSplit(1_234_567, RATES).share

  const id = await opened(app, buyer, lampShipment)
  t.match(await balanceOf(app, lampSeller), { pending: 0, onHold: lampShare })
  t.match(await balanceOf(app, sofaSeller), { pending: SHARE, onHold: 0 }, 'the other shipment is not held')

  const paid = mulDivRound(1_234_567, order.total, gross) // the lamp's share of what the buyer paid
  t.equal(paid, 1_111_110)
  const tooMuch = await resolve(app, admin, id, { outcome: 'split', refundAmount: paid + 1 })
  t.equal(tooMuch.statusCode, 422)
  t.equal(tooMuch.json.refundable ?? tooMuch.json.data?.refundable, paid)

  const res = await resolve(app, admin, id, { outcome: 'refund' })
  t.equal(res.statusCode, 200)
  t.equal(res.json.refundAmount, paid)
  t.same(
    paystack.refunds.map((r) => r.amount),
    [paid],
    'Paystack refunded what the buyer paid for the lamp, not its list price',
  )
  const linesBack = Math.min(1_234_567, grossOfRefunded(paid, order.total, gross))
  t.match(await balanceOf(app, lampSeller), {
    pending: 0,
    onHold: 0,
    available: lampShare - reversedAt(lineSplit(1_234_567, RATES), linesBack).share,
  })
  t.equal((await balanceOf(app, lampSeller)).available, 0, 'the lamp’s lines were refunded in full')
  t.same(
    await balanceOf(app, sofaSeller),
    { currency: 'NGN', pending: SHARE, available: 0, onHold: 0, inTransit: 0, paidOut: 0 },
    'the sofa seller’s money is untouched',
  )
  t.match(await app.ledger.escrowOf(app.db, sofaShipment), { state: 'pending', refunded_gross: 0 })
  const after = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
  t.equal(after.json.paymentStatus, 'partially_refunded')
  t.equal(after.json.refundedAmount, paid)
})

void t.test('a coupon order’s rounding never takes a kobo from the other shipment', async (t) => {
  // 1 999 999 of 2 000 000 + 1 999 999 with 90 % off: the paid share turned back into lines
  // by the ledger would stand for a kobo more than the shipment has, so the refund is lowered.
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const buyer = await aUser(app)
  const a = await aUser(app)
  const b = await aUser(app)
  const la = await aListing(app.db, a.id, { price: 2_000_000 })
  const lb = await aListing(app.db, b.id, { price: 1_999_999 })
  const coupon = await aCoupon(app, { value: 90 })
  const order = await paidOrder(app, paystack, buyer, [la.id, lb.id], { couponCode: coupon.code })
  const gross = 3_999_999
  const shipmentB = order.shipments.find((s: Json) => s.sellerId === b.id).id as string
  const formula = mulDivRound(1_999_999, order.total, gross)
  const spills = grossOfRefunded(formula, order.total, gross) > 1_999_999
  t.ok(spills, `the formula's ${formula} would stand for more than the shipment's lines`)
  const id = await opened(app, buyer, shipmentB)
  const res = await resolve(app, admin, id, { outcome: 'refund' })
  t.equal(res.statusCode, 200)
  t.equal(res.json.refundAmount, formula - 1, 'a kobo less')
  t.ok(grossOfRefunded(res.json.refundAmount, order.total, gross) <= 1_999_999)
  t.same(await balanceOf(app, a), {
    currency: 'NGN',
    pending: lineSplit(2_000_000, RATES).share,
    available: 0,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })
  t.match(await app.ledger.escrowOf(app.db, order.shipments.find((s: Json) => s.sellerId === a.id).id), {
    refunded_gross: 0,
  })
})

void t.test('a multi-seller order: releasing or splitting one shipment leaves the other alone', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const buyer = await aUser(app)
  const one = await aUser(app)
  const two = await aUser(app)
  const three = await aUser(app)
  const listings = await Promise.all([one, two, three].map((s) => aListing(app.db, s.id, { price: 1_000_000 })))
  const order = await paidOrder(
    app,
    paystack,
    buyer,
    listings.map((l) => l.id),
  )
  const shipmentOf = (u: SignedInUser) => order.shipments.find((s: Json) => s.sellerId === u.id).id as string
  const share = lineSplit(1_000_000, RATES).share
  const d1 = await opened(app, buyer, shipmentOf(one))
  const d2 = await opened(app, buyer, shipmentOf(two))
  t.match(await balanceOf(app, three), { pending: share, onHold: 0 })
  t.equal((await resolve(app, admin, d1, { outcome: 'release' })).statusCode, 200)
  t.equal((await resolve(app, admin, d2, { outcome: 'split', refundAmount: 250_000 })).statusCode, 200)
  t.match(await balanceOf(app, one), { available: share, onHold: 0, pending: 0 })
  t.match(await balanceOf(app, two), {
    available: share - reversedAt(lineSplit(1_000_000, RATES), 250_000).share,
    onHold: 0,
    pending: 0,
  })
  t.same(
    await balanceOf(app, three),
    { currency: 'NGN', pending: share, available: 0, onHold: 0, inTransit: 0, paidOut: 0 },
    'the undisputed shipment is untouched',
  )
  t.same(
    paystack.refunds.map((r) => r.amount),
    [250_000],
  )
})

void t.test(
  'Paystack refuses the refund: 502, the dispute stays resolved, the refund failed, admins told',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const admin = await anAdmin(app)
    const { seller, buyer, shipmentId } = await paidSale(app, paystack)
    const id = await opened(app, buyer, shipmentId)
    paystack.modes.refund = 'statusFalse'
    const res = await resolve(app, admin, id, { outcome: 'refund' })
    t.equal(res.statusCode, 502)
    t.equal(res.json.code, 'REFUND_REJECTED')
    t.equal(res.json.disputeId ?? res.json.data?.disputeId, id)
    const got = await call(app, 'GET', `/v1/disputes/${id}`, { token: admin.accessToken })
    t.match(got.json, { status: 'resolved', outcome: 'refund', refundAmount: 7_500_000, refundStatus: 'failed' })
    t.ok(
      (await notesOf(app, admin, 'refund_failed')).some((n) => n.refundId === got.json.refundId),
      'admins are told',
    )
    t.match(
      await balanceOf(app, seller),
      { pending: 0, onHold: 0, available: SHARE },
      'the failed refund’s money is back with the seller (the shipment is released)',
    )
    t.equal((await resolve(app, admin, id, { outcome: 'refund' })).json.code, 'DISPUTE_RESOLVED', 'not resolved twice')
  },
)

void t.test('an order cancelled while its shipment is disputed: the refund comes from the held money', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, buyer, order, shipmentId } = await paidSale(app, paystack)
  const id = await opened(app, buyer, shipmentId)
  const cancel = await call(app, 'POST', `/v1/orders/${order.id}/cancel`, { token: buyer.accessToken })
  t.equal(cancel.statusCode, 200, 'nothing was sent: the buyer may still cancel')
  t.match(await balanceOf(app, seller), { pending: 0, onHold: 0, available: 0 }, 'the whole share went back')
  t.same(
    paystack.refunds.map((r) => r.amount),
    [7_500_000],
  )
  const split = await resolve(app, admin, id, { outcome: 'split', refundAmount: 1 })
  t.equal(split.statusCode, 422, 'nothing is left to refund')
  t.equal(split.json.refundable ?? split.json.data?.refundable, 0)
  const res = await resolve(app, admin, id, { outcome: 'refund', note: 'Refunded by the cancellation' })
  t.equal(res.statusCode, 200)
  t.match(res.json, { status: 'resolved', outcome: 'refund', refundAmount: 0, refundId: null })
  t.equal(paystack.refunds.length, 1, 'no second refund')
  t.same(await balanceOf(app, seller), {
    currency: 'NGN',
    pending: 0,
    available: 0,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })
})

void t.test('after an earlier partial refund, refund gives back what is left of the shipment', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, buyer, order, shipmentId } = await paidSale(app, paystack)
  const first = await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
    token: admin.accessToken,
    body: { reason: 'Late delivery', amount: 1_000_000 },
  })
  t.equal(first.statusCode, 201)
  const id = await opened(app, buyer, shipmentId)
  const held = SHARE - reversedAt(lineSplit(7_500_000, RATES), 1_000_000).share
  t.match(await balanceOf(app, seller), { pending: 0, onHold: held })
  const tooMuch = await resolve(app, admin, id, { outcome: 'split', refundAmount: 6_500_001 })
  t.equal(tooMuch.json.refundable ?? tooMuch.json.data?.refundable, 6_500_000)
  const res = await resolve(app, admin, id, { outcome: 'refund' })
  t.equal(res.statusCode, 200)
  t.equal(res.json.refundAmount, 6_500_000)
  t.same(
    paystack.refunds.map((r) => r.amount),
    [1_000_000, 6_500_000],
  )
  t.match(await balanceOf(app, seller), { pending: 0, onHold: 0, available: 0 })
  const after = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
  t.equal(after.json.paymentStatus, 'refunded')
})

void t.test('thread messages are limited as chat sends are: 20 per user per 10 s', async (t) => {
  const { app, paystack } = await commerceApp(t, { RATE_LIMIT_SCALE: 1 })
  const { seller, buyer, shipmentId } = await paidSale(app, paystack)
  const id = await opened(app, buyer, shipmentId)
  const statuses: number[] = []
  for (let i = 0; i < 21; i++)
    statuses.push(
      (await call(app, 'POST', `/v1/disputes/${id}/messages`, { token: buyer.accessToken, body: { body: `n${i}` } }))
        .statusCode,
    )
  t.same(statuses.slice(0, 20), Array(20).fill(201))
  const limited = await call(app, 'POST', `/v1/disputes/${id}/messages`, {
    token: buyer.accessToken,
    body: { body: 'once more' },
  })
  t.equal(limited.statusCode, 429)
  t.equal(limited.json.code, 'RATE_LIMITED')
  const other = await call(app, 'POST', `/v1/disputes/${id}/messages`, {
    token: seller.accessToken,
    body: { body: 'hi' },
  })
  t.equal(other.statusCode, 201, 'per user')
})
