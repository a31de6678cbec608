/**
 * Regressions of the outside review (hardening issue), the read side: what a seller sees of
 * an order (items 5 and 8), who may open a conversation about a want (14), and which
 * profile picture URLs are accepted and served (15). Each test failed on the code before
 * its fix.
 */
import t from 'tap'
import { build, call, type Json, type TestApp } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import {
  aCoupon,
  commerceApp,
  expireWindow,
  paidOrder,
  pendingCheckout,
  postWebhook,
  sweep,
} from './factories/commerce.js'
import { up as avatarMigration } from '../migrations/20261207130001_avatar_url_https.js'

/** Everything stored for a user about an order: live events and notifications. */
async function heardOf(app: TestApp, userId: string, orderId: string) {
  const events = await app.db('user_events').where({ user_id: userId }).whereRaw("data->>'orderId' = ?", [orderId])
  const notes = await app.db('notifications').where({ user_id: userId }).whereRaw("data->>'orderId' = ?", [orderId])
  return { events: events.map((e: Json) => e.event), notifications: notes.map((n: Json) => n.type) }
}

const saleOrders = async (app: TestApp, seller: SignedInUser) => {
  const res = await call(app, 'GET', '/v1/sales', { token: seller.accessToken })
  if (res.statusCode !== 200) throw new Error(res.body)
  return res.json.items.map((s: Json) => s.orderId)
}

/**
 * A listing of one unit, checked out by `late` whose window then expires; `other` buys the
 * unit; then `late`'s payment lands through a signed webhook.
 */
async function latePaymentAfterStockGone(app: TestApp, paystack: Awaited<ReturnType<typeof commerceApp>>['paystack']) {
  const seller = await aUser(app)
  const [late, other] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 1, price: 12_000_00 })
  const first = await pendingCheckout(app, late, listing.id)
  await expireWindow(app, first.orderId)
  await sweep(app)
  const sold = await paidOrder(app, paystack, other, [listing.id])
  paystack.pay(first.reference)
  const hook = await postWebhook(app, paystack.chargeSuccess(first.reference))
  if (hook.statusCode !== 200) throw new Error(hook.body)
  await app.commerce.idle()
  return { seller, late, other, lateOrderId: first.orderId, soldOrderId: sold.id as string }
}

void t.test('#5 a late payment refunded is no sale: not listed, 404 and unheard of by the seller', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, late, lateOrderId, soldOrderId } = await latePaymentAfterStockGone(app, paystack)

  const asBuyer = await call(app, 'GET', `/v1/orders/${lateOrderId}`, { token: late.accessToken })
  t.equal(asBuyer.json.paymentStatus, 'refunded', 'the late payment was refunded')
  t.ok(asBuyer.json.paidAt, 'with the time its money arrived')
  t.same(await saleOrders(app, seller), [soldOrderId], 'the seller’s sales hold only the honoured order')
  const asSeller = await call(app, 'GET', `/v1/orders/${lateOrderId}`, { token: seller.accessToken })
  t.equal(asSeller.statusCode, 404, 'and the refunded order (with the buyer’s address) is not theirs to see')
  t.same(await heardOf(app, seller.id, lateOrderId), { events: [], notifications: [] })

  // A sibling: a buyer cancels an unpaid checkout, then pays it anyway: refunded, no sale.
  const canceller = await aUser(app)
  const lamp = await aListing(app.db, seller.id, { quantity: 1, price: 3_000_00 })
  const cancelled = await pendingCheckout(app, canceller, lamp.id)
  const cancel = await call(app, 'POST', `/v1/orders/${cancelled.orderId}/cancel`, { token: canceller.accessToken })
  t.equal(cancel.statusCode, 200, cancel.body)
  paystack.pay(cancelled.reference)
  await postWebhook(app, paystack.chargeSuccess(cancelled.reference))
  await app.commerce.idle()
  t.equal((await app.db('orders').where('id', cancelled.orderId).first()).payment_status, 'refunded')
  t.same(await saleOrders(app, seller), [soldOrderId], 'a payment after cancelling is no sale either')
  t.equal((await call(app, 'GET', `/v1/orders/${cancelled.orderId}`, { token: seller.accessToken })).statusCode, 404)

  // The admin's sales figures count the one unit sold once.
  const stats = await call(app, 'GET', '/v1/admin/stats', { token: admin.accessToken })
  t.equal(stats.statusCode, 200, stats.body)
  t.match(stats.json.topSellers, [{ sellerId: seller.id, revenue: 12_000_00, orders: 1 }])
  t.equal(stats.json.topSellers.length, 1)
})

void t.test('#5 Paystack refuses the late refund: an admin problem, still nothing to the seller', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  paystack.modes.refund = 'statusFalse'
  const { seller, late, lateOrderId, soldOrderId } = await latePaymentAfterStockGone(app, paystack)

  t.match(await app.db('refunds').where('order_id', lateOrderId), [{ origin: 'late_payment', status: 'failed' }])
  t.equal(
    (await app.db('notifications').where({ user_id: admin.id, type: 'refund_failed' })).length,
    1,
    'admins are told to settle it',
  )
  const asAdmin = await call(app, 'GET', `/v1/orders/${lateOrderId}`, { token: admin.accessToken })
  t.match(asAdmin.json, { paymentStatus: 'paid', refunds: [{ origin: 'late_payment', status: 'failed' }] })
  t.ok(
    asAdmin.json.shipments.every((s: Json) => s.status === 'cancelled'),
    'its shipments stay cancelled: the unit went to someone else',
  )
  t.same(await saleOrders(app, seller), [soldOrderId], 'not a sale')
  t.equal((await call(app, 'GET', `/v1/orders/${lateOrderId}`, { token: seller.accessToken })).statusCode, 404)
  t.same(
    await heardOf(app, seller.id, lateOrderId),
    { events: [], notifications: [] },
    'no order:status "paid" for units sold to someone else',
  )
  t.ok((await heardOf(app, late.id, lateOrderId)).events.length > 0, 'the buyer still hears of their order')

  // The same when Paystack accepts the refund first and reports it failed later.
  paystack.modes.refund = 'ok'
  const second = await latePaymentAfterStockGone(app, paystack)
  const refund = paystack.refunds.at(-1)!
  refund.status = 'failed'
  const failed = await postWebhook(
    app,
    paystack.webhook('refund.failed', {
      id: refund.id,
      status: 'failed',
      transaction_reference: refund.transaction.reference,
      amount: refund.amount,
      currency: 'NGN',
    }),
  )
  t.equal(failed.statusCode, 200)
  await app.commerce.idle()
  t.equal((await app.db('orders').where('id', second.lateOrderId).first()).payment_status, 'paid')
  t.same(await saleOrders(app, second.seller), [second.soldOrderId])
  t.same(await heardOf(app, second.seller.id, second.lateOrderId), { events: [], notifications: [] })
})

void t.test('#5 an unpaid checkout is nothing to its seller yet', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id)
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  t.equal((await call(app, 'GET', `/v1/orders/${orderId}`, { token: seller.accessToken })).statusCode, 404)
  t.same(await saleOrders(app, seller), [])
  paystack.pay(reference)
  t.equal(
    (await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })).statusCode,
    200,
  )
  t.equal((await call(app, 'GET', `/v1/orders/${orderId}`, { token: seller.accessToken })).statusCode, 200)
  t.same(await saleOrders(app, seller), [orderId], 'once paid, it is a sale')
})

void t.test('#8 each seller of a two-seller order sees only their part; the buyer sees all', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [ada, bola, buyer, stranger] = [await aUser(app), await aUser(app), await aUser(app), await aUser(app)]
  const admin = await anAdmin(app)
  const chair = await aListing(app.db, ada.id, { title: 'Ada’s chair', price: 30_000_00 })
  const desk = await aListing(app.db, bola.id, { title: 'Bola’s desk', price: 20_000_00 })
  const coupon = await aCoupon(app, { type: 'percent', value: 10 })
  const order = await paidOrder(app, paystack, buyer, [chair.id, desk.id], { couponCode: coupon.code })

  const asBuyer = (await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })).json
  t.match(asBuyer, {
    subtotal: 50_000_00,
    discount: 5_000_00,
    total: 45_000_00,
    coupon: { code: coupon.code },
    payment: { amount: 45_000_00, status: 'success' },
    shippingAddress: { line1: '12 Allen Avenue' },
  })
  t.equal(asBuyer.items.length, 2)
  t.equal(asBuyer.shipments.length, 2)
  const asAdmin = (await call(app, 'GET', `/v1/orders/${order.id}`, { token: admin.accessToken })).json
  t.match(asAdmin, { subtotal: 50_000_00, total: 45_000_00, payment: { amount: 45_000_00 } })
  t.equal(asAdmin.items.length, 2)

  for (const [seller, title, amount] of [
    [ada, 'Ada’s chair', 30_000_00],
    [bola, 'Bola’s desk', 20_000_00],
  ] as const) {
    const view = await call(app, 'GET', `/v1/orders/${order.id}`, { token: seller.accessToken })
    t.equal(view.statusCode, 200)
    t.match(
      view.json,
      {
        paymentStatus: 'paid',
        subtotal: amount,
        discount: 0,
        total: amount,
        refundedAmount: 0,
        coupon: null,
        payment: null,
        refunds: [],
        shippingAddress: { line1: '12 Allen Avenue', phone: '+2348012345678' },
      },
      `${title}: only its seller's sum, no coupon, no payment`,
    )
    t.same(
      view.json.items.map((i: Json) => i.title),
      [title],
    )
    t.same(
      view.json.shipments.map((s: Json) => s.sellerId),
      [seller.id],
    )
  }
  t.equal((await call(app, 'GET', `/v1/orders/${order.id}`, { token: stranger.accessToken })).statusCode, 404)

  // The order a seller's move answers is their view too.
  const adaShipment = asBuyer.shipments.find((s: Json) => s.sellerId === ada.id).id
  const moved = await call(app, 'POST', `/v1/shipments/${adaShipment}/status`, {
    token: ada.accessToken,
    body: { status: 'sent' },
  })
  t.equal(moved.statusCode, 200, moved.body)
  t.match(moved.json, { subtotal: 30_000_00, total: 30_000_00, payment: null, refunds: [] })
  t.equal(moved.json.items.length, 1)
})

void t.test('#8 a cancelled shipment no longer shows its seller the buyer’s address', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const [seller, buyer] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { price: 8_000_00 })
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const sale = (await call(app, 'GET', '/v1/sales', { token: seller.accessToken })).json.items[0]
  t.match(sale, { orderId: order.id, shippingAddress: { line1: '12 Allen Avenue' } })

  const cancel = await call(app, 'POST', `/v1/orders/${order.id}/cancel`, { token: buyer.accessToken })
  t.equal(cancel.statusCode, 200, cancel.body)
  t.match(cancel.json, { paymentStatus: 'refunded', shippingAddress: { line1: '12 Allen Avenue' } }, 'the buyer')
  const view = await call(app, 'GET', `/v1/orders/${order.id}`, { token: seller.accessToken })
  t.equal(view.statusCode, 200, 'a cancelled sale stays visible to its seller')
  t.match(view.json, { paymentStatus: 'refunded', shippingAddress: null, refunds: [], refundedAmount: 0 })
  t.equal(view.json.shipments[0].status, 'cancelled')
  const after = (await call(app, 'GET', '/v1/sales', { token: seller.accessToken })).json.items
  t.match(after, [{ orderId: order.id, shippingAddress: null, shipment: { status: 'cancelled' } }])
})

async function aWant(app: TestApp, author: SignedInUser): Promise<Json> {
  const res = await call(app, 'POST', '/v1/wants', {
    token: author.accessToken,
    body: { title: 'Standing desk', description: 'Electric, any colour' },
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json
}

void t.test('#14 a conversation about a want goes from a seller to its author, nobody else', async (t) => {
  const app = await build(t)
  const [author, seller, victim] = [await aUser(app), await aUser(app), await aUser(app)]
  const want = await aWant(app, author)
  const open = (who: SignedInUser, body: Json) =>
    call(app, 'POST', '/v1/conversations', { token: who.accessToken, body })
  const conversations = async () => Number((await app.db('conversations').count({ n: '*' }).first()).n)

  // The author names anyone as the recipient: a cold message. Refused, and nothing is written.
  const cold = await open(author, { wantId: want.id, recipientId: victim.id, message: 'Buy my stuff' })
  t.equal(cold.statusCode, 409, cold.body)
  t.equal(cold.json.code, 'OWN_WANT')
  t.equal(cold.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(await conversations(), 0)
  t.equal(Number((await app.db('messages').count({ n: '*' }).first()).n), 0)
  t.same(
    await app.db('user_events').where({ user_id: victim.id, event: 'message:new' }),
    [],
    'the victim hears nothing',
  )
  t.same(await app.db('notifications').where({ user_id: victim.id, type: 'message' }), [])

  // Self, and no recipient at all.
  const self = await open(author, { wantId: want.id, recipientId: author.id })
  t.equal(self.statusCode, 400)
  t.equal(self.json.code, 'CANNOT_MESSAGE_SELF')
  t.equal((await open(author, { wantId: want.id })).json.code, 'RECIPIENT_REQUIRED')
  // A seller may not aim a want's conversation at someone other than its author.
  const aside = await open(seller, { wantId: want.id, recipientId: victim.id })
  t.equal(aside.statusCode, 400)
  t.equal(aside.json.code, 'RECIPIENT_MISMATCH')
  t.equal(await conversations(), 0)

  // The legitimate case: a seller answers the want, to its author.
  const answer = await open(seller, { wantId: want.id, message: 'I have one, barely used' })
  t.equal(answer.statusCode, 201, answer.body)
  t.match(answer.json, { wantId: want.id, buyerId: author.id, sellerId: seller.id })
  const again = await open(seller, { wantId: want.id, recipientId: author.id })
  t.equal(again.statusCode, 200)
  t.equal(again.json.id, answer.json.id)
  // The author may return that conversation (it exists), but still not open another.
  const back = await open(author, { wantId: want.id, recipientId: seller.id })
  t.equal(back.statusCode, 200, back.body)
  t.equal(back.json.id, answer.json.id)
  t.equal((await open(author, { wantId: want.id, recipientId: victim.id })).json.code, 'OWN_WANT')
  t.equal(await conversations(), 1)

  // The listing rule it mirrors: an owner naming a stranger gets nothing either.
  const listing = await aListing(app.db, seller.id)
  const ownerCold = await open(seller, { listingId: listing.id, recipientId: victim.id, message: 'Hi' })
  t.equal(ownerCold.statusCode, 404)
  t.equal(ownerCold.json.code, 'CONVERSATION_NOT_FOUND')
  t.equal(await conversations(), 1)
})

void t.test('#15 avatarUrl takes https URLs only', async (t) => {
  const app = await build(t)
  const user = await aUser(app)
  const patch = (avatarUrl: unknown) => call(app, 'PATCH', '/v1/me', { token: user.accessToken, body: { avatarUrl } })

  const good = 'https://cdn.example.com/avatars/ada.webp?v=2'
  const set = await patch(good)
  t.equal(set.statusCode, 200, set.body)
  t.equal(set.json.avatarUrl, good)
  for (const bad of [
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    'data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+',
    'file:///etc/passwd',
    'http://cdn.example.com/avatars/ada.webp',
    'https://',
    'https://trusted.example@evil.example/a.png',
    '//evil.example/a.png',
  ]) {
    const res = await patch(bad)
    t.equal(res.statusCode, 400, bad)
    t.equal(res.json.code, 'VALIDATION_FAILED', bad)
    t.equal(res.json.errors?.[0]?.path, '/body/avatarUrl', bad)
  }
  t.equal((await app.db('users').where('id', user.id).first()).avatar_url, good, 'bad input changed nothing')
  t.equal((await call(app, 'GET', `/v1/users/${user.id}`)).json.avatarUrl, good)
  const cleared = await patch(null)
  t.equal(cleared.statusCode, 200)
  t.equal(cleared.json.avatarUrl, null)
})

void t.test('#15 stored avatars that are not https are cleared, and the database refuses new ones', async (t) => {
  const app = await build(t)
  const [a, b, c, d] = [await aUser(app), await aUser(app), await aUser(app), await aUser(app)]
  // The state before the migration: whatever the old schema let through.
  await app.db.raw('alter table users drop constraint users_avatar_url_https')
  const stored: [SignedInUser, string | null][] = [
    [a, 'javascript:alert(1)'],
    [b, 'http://cdn.example.com/b.png'],
    [c, 'https://cdn.example.com/c.png'],
    [d, null],
  ]
  for (const [u, url] of stored) await app.db('users').where('id', u.id).update({ avatar_url: url })
  await avatarMigration(app.db)
  const after = new Map(
    (await app.db('users').whereIn('id', [a.id, b.id, c.id, d.id]).select('id', 'avatar_url')).map((r: Json) => [
      r.id,
      r.avatar_url,
    ]),
  )
  t.same(
    stored.map(([u]) => after.get(u.id)),
    [null, null, 'https://cdn.example.com/c.png', null],
  )
  t.equal((await call(app, 'GET', `/v1/users/${a.id}`)).json.avatarUrl, null, 'not served any more')
  await t.rejects(
    async () => app.db('users').where('id', a.id).update({ avatar_url: 'data:text/html,<script>alert(1)</script>' }),
    { code: '23514' },
    'a write around the API is refused too',
  )
})
