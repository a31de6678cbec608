import t from 'tap'
import { call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { checkout, commerceApp, paidOrder, sweep, toCart } from './factories/commerce.js'
import { shipmentForReview } from '../src/orders/index.js'

void t.test('who sees an order: the buyer, the sellers of its lines (their own lines), admins', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [ada, bola, buyer, stranger] = [await aUser(app), await aUser(app), await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const a = await aListing(app.db, ada.id, { title: 'Ada’s chair' })
  const b = await aListing(app.db, bola.id, { title: 'Bola’s desk' })
  const order = await paidOrder(app, paystack, buyer, [a.id, b.id])

  const asBuyer = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
  t.equal(asBuyer.json.items.length, 2)
  t.equal(asBuyer.json.shipments.length, 2)
  t.ok(asBuyer.json.payment.authorizationUrl)
  const asAda = await call(app, 'GET', `/v1/orders/${order.id}`, { token: ada.accessToken })
  t.equal(asAda.statusCode, 200)
  t.same(
    asAda.json.items.map((i: { title: string }) => i.title),
    ['Ada’s chair'],
    'a seller sees only its own lines',
  )
  t.same(
    asAda.json.shipments.map((s: { sellerId: string }) => s.sellerId),
    [ada.id],
  )
  t.equal(asAda.json.payment, null, 'the payment is between the buyer and the platform')
  t.equal(asAda.json.shippingAddress.line1, '12 Allen Avenue', 'and where to ship')
  t.equal(
    (await call(app, 'GET', `/v1/orders/${order.id}`, { token: admin.accessToken })).json.items.length,
    2,
    'an admin sees all',
  )
  t.equal(
    (await call(app, 'GET', `/v1/orders/${order.id}`, { token: stranger.accessToken })).statusCode,
    404,
    'a stranger sees nothing',
  )
  t.equal((await call(app, 'GET', `/v1/orders/${order.id}`)).statusCode, 401)

  // A second, unpaid order: the buyer lists both, newest first, in pages; sellers see only paid sales.
  const c = await aListing(app.db, ada.id, { title: 'Ada’s lamp' })
  await toCart(app, buyer, c.id)
  const pendingOrder = (await checkout(app, buyer)).json.order
  const page1 = await call(app, 'GET', '/v1/orders?limit=1', { token: buyer.accessToken })
  t.same(
    page1.json.items.map((o: { id: string }) => o.id),
    [pendingOrder.id],
  )
  const page2 = await call(app, 'GET', `/v1/orders?limit=1&cursor=${page1.json.nextCursor}`, {
    token: buyer.accessToken,
  })
  t.same(
    page2.json.items.map((o: { id: string }) => o.id),
    [order.id],
  )
  t.equal(page2.json.nextCursor, null)
  t.same(
    (await call(app, 'GET', '/v1/orders?paymentStatus=paid', { token: buyer.accessToken })).json.items.map(
      (o: { id: string }) => o.id,
    ),
    [order.id],
  )
  t.same(
    (await call(app, 'GET', '/v1/orders', { token: ada.accessToken })).json.items,
    [],
    'orders are the buyer’s list',
  )
  const sales = await call(app, 'GET', '/v1/sales', { token: ada.accessToken })
  t.equal(sales.statusCode, 200)
  t.equal(sales.json.items.length, 1, 'the unpaid order is not a sale yet')
  t.match(sales.json.items[0], {
    orderId: order.id,
    buyerId: buyer.id,
    paymentStatus: 'paid',
    shipment: { sellerId: ada.id, status: 'pending' },
    items: [{ title: 'Ada’s chair' }],
  })
  t.equal((await call(app, 'GET', '/v1/orders?cursor=garbage', { token: buyer.accessToken })).statusCode, 400)
})

void t.test('every shipment transition, and each wrong-party attempt', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, buyer, stranger] = [await aUser(app), await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id)

  // Before payment nothing moves.
  await toCart(app, buyer, listing.id)
  const unpaid = (await checkout(app, buyer)).json
  const unpaidShipment = unpaid.order.shipments[0].id
  const early = await call(app, 'POST', `/v1/shipments/${unpaidShipment}/status`, {
    token: seller.accessToken,
    body: { status: 'sent' },
  })
  t.equal(early.statusCode, 409)
  t.equal(early.json.code, 'ORDER_NOT_PAID')
  paystack.pay(unpaid.payment.reference)
  const order = (await call(app, 'POST', `/v1/orders/${unpaid.order.id}/verify-payment`, { token: buyer.accessToken }))
    .json
  const sid = order.shipments[0].id
  const move = (who: { accessToken: string }, body: Record<string, unknown>) =>
    call(app, 'POST', `/v1/shipments/${sid}/status`, { token: who.accessToken, body })
  const received = (who: { accessToken: string }) =>
    call(app, 'POST', `/v1/shipments/${sid}/received`, { token: who.accessToken })

  t.equal((await move(buyer, { status: 'sent' })).statusCode, 403, 'the buyer cannot move it')
  t.equal((await move(admin, { status: 'sent' })).statusCode, 403, 'nor an admin')
  t.equal((await move(stranger, { status: 'sent' })).statusCode, 404, 'a stranger does not see it')
  t.equal((await received(buyer)).json.code, 'INVALID_TRANSITION', 'received before delivered')
  t.equal((await move(seller, { status: 'received' })).statusCode, 400, 'received is not a seller status')
  t.equal((await move(seller, { status: 'sent', trackingNumber: 'x'.repeat(101) })).statusCode, 400)

  const sent = await move(seller, {
    status: 'sent',
    trackingNumber: 'GIG-123',
    carrier: 'GIG Logistics',
    note: 'Left Lagos',
  })
  t.equal(sent.statusCode, 200, sent.body)
  t.match(sent.json.shipments[0], { status: 'sent', trackingNumber: 'GIG-123', carrier: 'GIG Logistics' })
  t.ok(sent.json.shipments[0].sentAt)
  t.equal((await move(seller, { status: 'sent' })).json.code, 'INVALID_TRANSITION', 'sent again')
  t.equal((await move(buyer, { status: 'en_route' })).statusCode, 403)
  const enRoute = await move(seller, { status: 'en_route', note: 'In Ibadan' })
  t.equal(enRoute.json.shipments[0].status, 'en_route')
  t.equal(enRoute.json.shipments[0].trackingNumber, 'GIG-123', 'tracking number kept')
  t.equal((await move(seller, { status: 'sent' })).json.code, 'INVALID_TRANSITION', 'never backwards')
  t.equal((await received(buyer)).json.code, 'INVALID_TRANSITION', 'en route is not delivered')
  t.equal((await move(stranger, { status: 'delivered' })).statusCode, 404)
  const delivered = await move(seller, { status: 'delivered' })
  t.equal(delivered.json.shipments[0].status, 'delivered')
  t.ok(delivered.json.shipments[0].deliveredAt)
  t.equal((await received(seller)).statusCode, 403, 'the seller cannot confirm receipt')
  t.equal((await received(stranger)).statusCode, 404)
  t.equal((await shipmentForReview(app.db, sid))?.status, 'delivered', 'not reviewable yet')
  const done = await received(buyer)
  t.equal(done.statusCode, 200)
  t.equal(done.json.shipments[0].status, 'received')
  t.ok(done.json.shipments[0].receivedAt)
  t.equal((await received(buyer)).json.code, 'INVALID_TRANSITION', 'received twice')
  t.equal((await move(seller, { status: 'delivered' })).json.code, 'INVALID_TRANSITION')
  t.same(
    done.json.shipments[0].history.map((h: { fromStatus: string | null; status: string }) => [h.fromStatus, h.status]),
    [
      [null, 'pending'],
      ['pending', 'sent'],
      ['sent', 'en_route'],
      ['en_route', 'delivered'],
      ['delivered', 'received'],
    ],
    'the whole history',
  )
  t.match(done.json.shipments[0].history[1], {
    trackingNumber: 'GIG-123',
    carrier: 'GIG Logistics',
    note: 'Left Lagos',
    actorId: seller.id,
  })
  t.match(await shipmentForReview(app.db, sid), {
    buyerId: buyer.id,
    sellerId: seller.id,
    status: 'received',
    listingIds: [listing.id],
  })

  // Every change reached both parties: events and notifications.
  const buyerEvents = (
    await app.db('user_events').where({ user_id: buyer.id, event: 'order:status' }).orderBy('seq')
  ).map((e) => e.data.shipments[0].status)
  t.same(buyerEvents, ['pending', 'pending', 'sent', 'en_route', 'delivered', 'received'])
  const sellerEvents = (
    await app.db('user_events').where({ user_id: seller.id, event: 'order:status' }).orderBy('seq')
  ).map((e) => e.data.shipments[0].status)
  t.same(sellerEvents, ['pending', 'sent', 'en_route', 'delivered', 'received'])
  t.same(
    (await app.db('notifications').where({ user_id: buyer.id, type: 'order_status' }).orderBy('created_at')).map(
      (n) => n.data.status ?? n.data.paymentStatus,
    ),
    ['paid', 'sent', 'en_route', 'delivered'],
  )
  t.match(
    (await app.db('notifications').where({ user_id: seller.id, type: 'order_status' }).orderBy('created_at')).map(
      (n) => n.data,
    ),
    [{ paymentStatus: 'paid' }, { shipmentId: sid, status: 'received' }],
  )

  // A seller may skip steps (a hand-over in person).
  const other = await aListing(app.db, seller.id)
  const second = await paidOrder(app, paystack, buyer, [other.id])
  const handover = await call(app, 'POST', `/v1/shipments/${second.shipments[0].id}/status`, {
    token: seller.accessToken,
    body: { status: 'delivered', note: 'Collected in person' },
  })
  t.equal(handover.json.shipments[0].status, 'delivered')
  t.equal(
    (
      await call(app, 'POST', '/v1/shipments/00000000-0000-4000-8000-000000000000/status', {
        token: seller.accessToken,
        body: { status: 'sent' },
      })
    ).statusCode,
    404,
  )
})

void t.test(
  'the buyer cancels: an unpaid order lets go, a paid one is refunded; not once something is sent',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const [seller, buyer, stranger] = [await aUser(app), await aUser(app), await aUser(app)]
    const listing = await aListing(app.db, seller.id, { quantity: 1, price: 8_000_00 })

    // Unpaid.
    await toCart(app, buyer, listing.id)
    const unpaid = (await checkout(app, buyer)).json
    t.equal(
      (await call(app, 'POST', `/v1/orders/${unpaid.order.id}/cancel`, { token: seller.accessToken })).statusCode,
      404,
      'not the seller (an unpaid order is nothing to its seller yet)',
    )
    t.equal(
      (await call(app, 'POST', `/v1/orders/${unpaid.order.id}/cancel`, { token: stranger.accessToken })).statusCode,
      404,
    )
    const cancelled = await call(app, 'POST', `/v1/orders/${unpaid.order.id}/cancel`, { token: buyer.accessToken })
    t.equal(cancelled.statusCode, 200, cancelled.body)
    t.equal(cancelled.json.paymentStatus, 'expired')
    t.ok(cancelled.json.cancelledAt)
    t.ok(cancelled.json.shipments.every((s: { status: string }) => s.status === 'cancelled'))
    t.ok((await app.db('reservations').where('order_id', unpaid.order.id).first())!.released_at, 'the unit is free')
    t.equal(
      (await call(app, 'POST', `/v1/orders/${unpaid.order.id}/cancel`, { token: buyer.accessToken })).json.code,
      'ORDER_NOT_CANCELLABLE',
      'twice',
    )
    // If the buyer pays the abandoned Paystack page anyway, the money goes back.
    paystack.pay(unpaid.payment.reference)
    await call(app, 'POST', `/v1/orders/${unpaid.order.id}/verify-payment`, { token: buyer.accessToken })
    t.equal(
      (await app.db('orders').where('id', unpaid.order.id).first())!.payment_status,
      'refunded',
      'a payment for a cancelled order is refunded',
    )
    t.equal(paystack.refunds.length, 1)

    // Paid: stock returns, the whole amount is refunded.
    const paid = await paidOrder(app, paystack, buyer, [listing.id])
    t.equal((await app.db('listings').where('id', listing.id).first())!.status, 'sold')
    const refunded = await call(app, 'POST', `/v1/orders/${paid.id}/cancel`, { token: buyer.accessToken, body: {} })
    t.equal(refunded.statusCode, 200, refunded.body)
    t.equal(refunded.json.paymentStatus, 'refunded')
    t.match(refunded.json.refunds, [{ amount: 8_000_00, origin: 'buyer_cancel', status: 'processing' }])
    t.equal(paystack.refunds.length, 2)
    t.equal(paystack.refunds[1]!.amount, 8_000_00)
    const l = (await app.db('listings').where('id', listing.id).first())!
    t.equal(l.sold_quantity, 0, 'the unit is back')
    t.equal(l.status, 'active', 'on sale again')
    t.ok(
      (await app.db('notifications').where({ user_id: seller.id, type: 'order_status' })).some(
        (n) => n.data.paymentStatus === 'refunded',
      ),
      'the seller is told',
    )
    t.equal(Number((await app.db('audit_log').where({ action: 'order.cancelled' }).count({ n: '*' }).first())?.n), 2)

    // Sent: too late.
    const third = await paidOrder(app, paystack, buyer, [listing.id])
    await call(app, 'POST', `/v1/shipments/${third.shipments[0].id}/status`, {
      token: seller.accessToken,
      body: { status: 'sent' },
    })
    const late = await call(app, 'POST', `/v1/orders/${third.id}/cancel`, { token: buyer.accessToken })
    t.equal(late.statusCode, 409)
    t.equal(late.json.code, 'ORDER_NOT_CANCELLABLE')
    t.equal((await app.db('orders').where('id', third.id).first())!.payment_status, 'paid', 'nothing changed')
  },
)

void t.test('admin refunds: partial, full, too much, idempotent, Paystack down or refusing', async (t) => {
  const { app, paystack } = await commerceApp(t, { PAYSTACK_TIMEOUT_MS: 300 })
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id, { price: 50_000_00, quantity: 5 })
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const refund = (body: Record<string, unknown>, key?: string) =>
    call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
      token: admin.accessToken,
      body,
      ...(key ? { headers: { 'idempotency-key': key } } : {}),
    })

  t.equal(
    (
      await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
        token: buyer.accessToken,
        body: { reason: 'x' },
      })
    ).statusCode,
    403,
    'admins only',
  )
  t.equal((await refund({})).statusCode, 400, 'a reason is required')
  t.equal((await refund({ amount: 0, reason: 'x' })).statusCode, 400)

  const partial = await refund({ amount: 10_000_00, reason: 'Arrived scratched' }, 'refund-1')
  t.equal(partial.statusCode, 201, partial.body)
  t.equal(partial.headers.location, `/v1/orders/${order.id}`, 'Location: the order the refund shows on')
  t.equal(partial.json.order.paymentStatus, 'partially_refunded')
  t.match(partial.json.refund, {
    amount: 10_000_00,
    status: 'processing',
    origin: 'admin',
    reason: 'Arrived scratched',
  })
  const replay = await refund({ amount: 10_000_00, reason: 'Arrived scratched' }, 'refund-1')
  t.equal(replay.headers.location, `/v1/orders/${order.id}`, 'replayed with its Location')
  t.equal(replay.statusCode, 201)
  t.equal(replay.body, partial.body, 'the replay is the first answer')
  t.equal(replay.headers['idempotent-replayed'], 'true')
  t.equal(
    (await refund({ amount: 20_000_00, reason: 'Arrived scratched' }, 'refund-1')).json.code,
    'IDEMPOTENCY_KEY_REUSED',
  )
  t.equal(paystack.refunds.length, 1, 'refunded once at Paystack')
  t.match(paystack.callsTo('/refund')[0]!.body, {
    transaction: order.payment.reference,
    amount: 10_000_00,
    merchant_note: `oja-refund:${partial.json.refund.id}`,
  })

  const tooMuch = await refund({ amount: 40_000_01, reason: 'x' })
  t.equal(tooMuch.statusCode, 409)
  t.equal(tooMuch.json.code, 'REFUND_EXCEEDS_PAID')
  t.equal(tooMuch.json.refundable, 40_000_00)

  // Paystack refuses: 502, and the refund does not count.
  paystack.modes.refund = 'statusFalse'
  const refused = await refund({ amount: 1_000_00, reason: 'x' })
  t.equal(refused.statusCode, 502)
  t.equal(refused.json.code, 'REFUND_REJECTED')
  t.equal((await app.db('orders').where('id', order.id).first())!.refunded_amount, 10_000_00)

  // Paystack down: 202, queued; the sweeper sends it later.
  paystack.modes.refund = 'error500'
  const queued = await refund({ amount: 5_000_00, reason: 'Late delivery' })
  t.equal(queued.statusCode, 202)
  t.equal(queued.json.refund.status, 'pending')
  t.equal(
    queued.json.order.refundedAmount,
    15_000_00,
    'counted at once, so nothing can refund past the total meanwhile',
  )
  paystack.modes.refund = 'ok'
  t.equal((await sweep(app))['commerce-retry-refunds'] ?? 0, 0, 'not due yet')
  await app
    .db('refunds')
    .where('id', queued.json.refund.id)
    .update({ next_attempt_at: app.db.raw('now()') })
  t.equal((await sweep(app))['commerce-retry-refunds'], 1)
  t.equal((await app.db('refunds').where('id', queued.json.refund.id).first())!.status, 'processing')
  t.equal(paystack.refunds.length, 2)

  // Full refund of the rest.
  const full = await refund({ reason: 'Returned' })
  t.equal(full.statusCode, 201)
  t.equal(full.json.refund.amount, 35_000_00)
  t.equal(full.json.order.paymentStatus, 'refunded')
  t.equal(full.json.order.refundedAmount, 50_000_00)
  t.equal((await refund({ reason: 'again' })).json.code, 'ORDER_NOT_REFUNDABLE')
  t.equal(
    Number(
      (
        await app
          .db('audit_log')
          .where({ action: 'admin.order_refunded', target_id: order.id })
          .count({ n: '*' })
          .first()
      )?.n,
    ),
    4,
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/orders/00000000-0000-4000-8000-000000000000/refund', {
        token: admin.accessToken,
        body: { reason: 'x' },
      })
    ).statusCode,
    404,
  )
})

void t.test('a refund whose answer was lost is not sent twice', async (t) => {
  const { app, paystack } = await commerceApp(t, { PAYSTACK_TIMEOUT_MS: 300 })
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id, { price: 9_000_00 })
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  paystack.modes.refund = 'lostAnswer'
  const res = await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
    token: admin.accessToken,
    body: { amount: 3_000_00, reason: 'Partial' },
  })
  t.equal(res.statusCode, 202, 'no answer: queued')
  t.equal(paystack.refunds.length, 1, 'but Paystack did make it')
  paystack.modes.refund = 'ok'
  await app.db('refunds').update({ next_attempt_at: app.db.raw('now()') })
  await sweep(app)
  t.equal(paystack.refunds.length, 1, 'the retry found it and did not refund again')
  t.match(await app.db('refunds').first(), { status: 'processing', provider_refund_id: paystack.refunds[0]!.id })
})
