import t from 'tap'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import {
  ADDRESS,
  aCoupon,
  available,
  checkout,
  commerceApp,
  fillCarts,
  manyBuyers,
  toCart,
} from './factories/commerce.js'

void t.test('checkout reserves, snapshots, splits by seller and starts the Paystack payment', async (t) => {
  const { app, paystack } = await commerceApp(t, { RESERVATION_TTL_SECONDS: 600 })
  const [ada, bola, buyer] = [await aUser(app), await aUser(app), await aUser(app)]
  const chair = await aListing(app.db, ada.id, { title: 'Chair', price: 10_000_00, quantity: 3 })
  const lamp = await aListing(app.db, ada.id, { title: 'Lamp', price: 2_500_00 })
  const desk = await aListing(app.db, bola.id, { title: 'Desk', price: 40_000_00 })
  t.equal((await toCart(app, buyer, chair.id, 2)).statusCode, 200)
  t.equal((await toCart(app, buyer, lamp.id)).statusCode, 200)
  t.equal((await toCart(app, buyer, desk.id)).statusCode, 200)

  const res = await checkout(app, buyer, { callbackUrl: 'https://app.oja.test/paid' })
  t.equal(res.statusCode, 201, res.body)
  const { order, payment } = res.json
  t.equal(order.paymentStatus, 'pending')
  t.equal(order.subtotal, 2 * 10_000_00 + 2_500_00 + 40_000_00)
  t.equal(order.total, order.subtotal)
  t.equal(order.shipments.length, 2, 'one shipment per seller')
  t.same(order.shipments.map((s: { sellerId: string }) => s.sellerId).sort(), [ada.id, bola.id].sort())
  t.same(
    order.items
      .map((i: { title: string; unitPrice: number; quantity: number }) => [i.title, i.unitPrice, i.quantity])
      .sort(),
    [
      ['Chair', 10_000_00, 2],
      ['Desk', 40_000_00, 1],
      ['Lamp', 2_500_00, 1],
    ],
  )
  for (const item of order.items)
    t.equal(
      item.shipmentId,
      order.shipments.find((s: { sellerId: string }) => s.sellerId === item.sellerId).id,
      'each line sits in its seller’s shipment',
    )
  t.match(payment, {
    provider: 'paystack',
    amount: order.total,
    currency: 'NGN',
    authorizationUrl: /^https:\/\/checkout\.paystack\.test\//,
    accessCode: /\w+/,
  })
  t.match(payment.reference, /^[A-Za-z0-9.=-]+$/, 'a reference Paystack accepts')

  // What Paystack was asked.
  const [init] = paystack.callsTo('/transaction/initialize')
  t.equal(init?.authorization, `Bearer ${paystack.secretKey}`)
  t.match(init?.body, {
    email: buyer.email,
    amount: String(order.total),
    currency: 'NGN',
    reference: payment.reference,
    callback_url: 'https://app.oja.test/paid',
    metadata: { orderId: order.id },
  })

  // Reservations hold the stock for the TTL.
  const reservations = await app.db('reservations').where('order_id', order.id)
  t.equal(reservations.length, 3)
  const ttl = (new Date(reservations[0]!.expires_at).getTime() - new Date(order.createdAt).getTime()) / 1000
  t.ok(ttl > 590 && ttl <= 601, `reserved for RESERVATION_TTL_SECONDS (${ttl} s)`)
  t.equal(await available(app, chair.id), 1)
  t.equal(await available(app, lamp.id), 0)

  // The lines are a snapshot: editing the listing later changes nothing in the order.
  await app.db('listings').where('id', chair.id).update({ title: 'Renamed', price: 1 })
  const again = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
  t.ok(
    again.json.items.some(
      (i: { title: string; unitPrice: number }) => i.title === 'Chair' && i.unitPrice === 10_000_00,
    ),
  )

  const events = await app.db('user_events').where({ user_id: buyer.id, event: 'order:status' })
  t.equal(events.length, 1, 'the buyer hears about the new order')
  t.match(events[0].data, { orderId: order.id, paymentStatus: 'pending' })
  t.same(
    events[0].data.shipments.map((s: { status: string }) => s.status),
    ['pending', 'pending'],
  )
  t.equal(
    (await app.db('user_events').where({ user_id: ada.id, event: 'order:status' })).length,
    0,
    'sellers hear nothing until it is paid',
  )
})

void t.test(
  '300 buyers check out the last 5 units at once: exactly 5 reservations, 295 OUT_OF_STOCK, no 5xx',
  async (t) => {
    const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 30 })
    const seller = await aUser(app)
    const listing = await aListing(app.db, seller.id, { quantity: 5, price: 5_000_00 })
    const buyers = await manyBuyers(app, 300)
    await fillCarts(
      app,
      buyers.map((b) => ({ userId: b.id, listingId: listing.id })),
    )

    const results = await Promise.all(buyers.map((b) => checkout(app, b)))
    const byStatus = new Map<number, number>()
    for (const r of results) byStatus.set(r.statusCode, (byStatus.get(r.statusCode) ?? 0) + 1)
    t.same(Object.fromEntries(byStatus), { 201: 5, 409: 295 }, 'five orders, the rest refused')
    t.ok(
      results.filter((r) => r.statusCode === 409).every((r) => r.json.code === 'OUT_OF_STOCK'),
      'every refusal is OUT_OF_STOCK',
    )
    t.notOk(
      results.some((r) => r.statusCode >= 500),
      'no 5xx',
    )

    const live = await app
      .db('reservations')
      .where('listing_id', listing.id)
      .whereNull('released_at')
      .sum({ n: 'quantity' })
      .first()
    t.equal(Number(live?.n), 5, 'exactly 5 units reserved')
    t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 5, 'exactly 5 orders')
    t.equal(paystack.callsTo('/transaction/initialize').length, 5, 'Paystack asked 5 times')
    t.equal(await available(app, listing.id), 0)
    const l = (await app.db('listings').where('id', listing.id).first())!
    t.equal(l.sold_quantity, 0, 'nothing is sold before payment')
  },
)

void t.test(
  'Paystack hanging, answering 500, status:false or a duplicate reference leaves nothing reserved',
  async (t) => {
    const { app, paystack } = await commerceApp(t, { PAYSTACK_TIMEOUT_MS: 300 })
    const seller = await aUser(app)
    const buyer = await aUser(app)
    const listing = await aListing(app.db, seller.id, { quantity: 1 })
    const coupon = await aCoupon(app, { usage_limit: 1 })
    await toCart(app, buyer, listing.id)

    for (const mode of ['hang', 'error500', 'statusFalse', 'duplicateReference'] as const) {
      paystack.modes.initialize = mode
      const key = `key-${mode}`
      const res = await checkout(app, buyer, { couponCode: coupon.code }, key)
      t.equal(res.statusCode, 503, `${mode}: 503`)
      t.equal(res.json.code, 'PAYMENT_PROVIDER_UNAVAILABLE')
      t.ok(res.headers['retry-after'], 'with Retry-After')
      t.equal(await available(app, listing.id), 1, `${mode}: the unit is free again`)
      t.equal(
        Number(
          (await app.db('reservations').whereNull('released_at').whereNull('converted_at').count({ n: '*' }).first())
            ?.n,
        ),
        0,
        `${mode}: no live reservation`,
      )
      t.equal(
        (await app.db('coupons').where('id', coupon.id).first())!.used_count,
        0,
        `${mode}: the coupon use is given back`,
      )
    }
    const orders = await app.db('orders').orderBy('created_at')
    t.equal(orders.length, 4)
    t.ok(
      orders.every((o) => o.payment_status === 'failed'),
      'each attempt is recorded as failed',
    )
    t.equal(
      Number((await app.db('audit_log').where('action', 'payment.initialize_failed').count({ n: '*' }).first())?.n),
      4,
      'and audited',
    )
    t.equal((await app.db('cart_items').where('user_id', buyer.id)).length, 1, 'the cart is kept')

    // A 5xx is not stored against the key: the same key works once Paystack is back.
    paystack.modes.initialize = 'ok'
    const retry = await checkout(app, buyer, { couponCode: coupon.code }, 'key-hang')
    t.equal(retry.statusCode, 201, retry.body)
    t.equal(retry.json.order.discount > 0, true)
    t.equal(await available(app, listing.id), 0)
  },
)

void t.test('a zero total (giveaways) confirms at once, without Paystack', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const giver = await aUser(app)
  const taker = await aUser(app)
  const other = await aUser(app)
  const gift = await aListing(app.db, giver.id, { type: 'giveaway', title: 'Free books', quantity: 2 })
  t.equal((await toCart(app, taker, gift.id, 2)).json.code, 'GIVEAWAY_LIMIT', 'one unit per person')
  t.equal((await toCart(app, taker, gift.id, 1)).statusCode, 200)
  const res = await checkout(app, taker)
  t.equal(res.statusCode, 201, res.body)
  t.equal(res.json.payment, null, 'no payment')
  t.equal(res.json.order.paymentStatus, 'paid')
  t.equal(res.json.order.total, 0)
  t.equal(paystack.calls.length, 0, 'Paystack never asked')
  const l = (await app.db('listings').where('id', gift.id).first())!
  t.equal(l.sold_quantity, 1)
  t.equal(l.status, 'active', 'one unit left')
  t.same(await app.db('cart_items').where('user_id', taker.id), [], 'the cart line is gone')
  t.equal(
    (await app.db('notifications').where({ user_id: giver.id, type: 'order_status' })).length,
    1,
    'the giver is told',
  )
  t.equal(
    (await app.db('mail_outbox').where('to_address', giver.email).andWhere('subject', 'like', '%sale%')).length,
    1,
    'and mailed',
  )

  // The same person cannot take a second unit, even through a fresh cart line.
  t.equal((await toCart(app, taker, gift.id, 1)).json.code, 'GIVEAWAY_LIMIT')
  await fillCarts(app, [{ userId: taker.id, listingId: gift.id }])
  const second = await checkout(app, taker)
  t.equal(second.statusCode, 409)
  t.equal(second.json.code, 'GIVEAWAY_LIMIT', 'checked again under the lock')
  // Someone else can; the last unit makes the listing sold.
  await toCart(app, other, gift.id)
  t.equal((await checkout(app, other)).statusCode, 201)
  t.equal((await app.db('listings').where('id', gift.id).first())!.status, 'sold')
})

void t.test('checkout refusals change nothing', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const stranger = await aUser(app)
  const listing = await aListing(app.db, seller.id)

  t.equal((await checkout(app, buyer)).json.code, 'CART_EMPTY')
  await toCart(app, buyer, listing.id)
  const noKey = await call(app, 'POST', '/v1/checkout', { token: buyer.accessToken, body: { address: ADDRESS } })
  t.equal(noKey.statusCode, 400)
  t.equal(noKey.json.code, 'IDEMPOTENCY_KEY_REQUIRED')
  const longKey = await checkout(app, buyer, {}, 'k'.repeat(256))
  t.equal(longKey.statusCode, 400, 'a key over 255 characters')
  const noAddress = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: {},
    headers: { 'idempotency-key': 'a1' },
  })
  t.equal(noAddress.json.code, 'ADDRESS_REQUIRED', 'no address and no default one')
  const strangersAddress = await call(app, 'POST', '/v1/me/addresses', { token: stranger.accessToken, body: ADDRESS })
  const foreign = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: { addressId: strangersAddress.json.id },
    headers: { 'idempotency-key': 'a2' },
  })
  t.equal(foreign.statusCode, 404, "someone else's address")
  const both = await checkout(app, buyer, { addressId: strangersAddress.json.id }, 'a3')
  t.equal(both.statusCode, 400, 'addressId and address together')
  const unknownField = await checkout(app, buyer, { paid: true }, 'a4')
  t.equal(unknownField.statusCode, 400)
  t.equal(unknownField.json.code, 'VALIDATION_FAILED')
  const badCallback = await checkout(app, buyer, { callbackUrl: 'javascript:alert(1)' }, 'a5')
  t.equal(badCallback.statusCode, 400)
  t.equal(
    (await call(app, 'POST', '/v1/checkout', { body: { address: ADDRESS }, headers: { 'idempotency-key': 'a6' } }))
      .statusCode,
    401,
  )

  await app.db('listings').where('id', listing.id).update({ status: 'removed' })
  const removed = await checkout(app, buyer, {}, 'a7')
  t.equal(removed.statusCode, 409)
  t.equal(removed.json.code, 'LISTING_UNAVAILABLE')
  await app.db('listings').where('id', listing.id).update({ status: 'active', seller_id: buyer.id })
  const own = await checkout(app, buyer, {}, 'a8')
  t.equal(own.json.code, 'OWN_LISTING', 'a listing that became the buyer’s own')

  t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 0, 'no order written')
  t.equal(Number((await app.db('reservations').count({ n: '*' }).first())?.n), 0, 'no reservation written')
  t.equal(paystack.calls.length, 0)

  // The default address is used when none is given.
  await app.db('listings').where('id', listing.id).update({ seller_id: seller.id })
  await call(app, 'POST', '/v1/me/addresses', {
    token: buyer.accessToken,
    body: { ...ADDRESS, fullName: 'Default Person', isDefault: true },
  })
  const ok = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: {},
    headers: { 'idempotency-key': 'a9' },
  })
  t.equal(ok.statusCode, 201, ok.body)
  t.equal(ok.json.order.shippingAddress.fullName, 'Default Person')
})

void t.test('checkout is limited to 30 per user per minute', async (t) => {
  const { app } = await commerceApp(t, { RATE_LIMIT_SCALE: 1 })
  const buyer = await aUser(app)
  const other = await aUser(app)
  const codes: number[] = []
  for (let i = 0; i < 31; i++) codes.push((await checkout(app, buyer, {}, `rl-${i}`)).statusCode)
  t.same(codes.slice(0, 30), Array(30).fill(409), 'the first 30 reach the service (empty cart)')
  const limited = await checkout(app, buyer, {}, 'rl-last')
  t.equal(limited.statusCode, 429)
  t.equal(limited.json.code, 'RATE_LIMITED')
  t.ok(limited.headers['retry-after'])
  t.equal((await checkout(app, other, {}, 'rl-0')).statusCode, 409, 'per user: someone else is not limited')
})

void t.test(
  'a price that changes while a checkout waits for the listing lock is caught, and the checkout starts again',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const seller = await aUser(app)
    const buyer = await aUser(app)
    const listing = await aListing(app.db, seller.id, { price: 10_000_00, quantity: 2 })
    await toCart(app, buyer, listing.id)

    // The seller's edit holds the listing row while the checkout reads the old price.
    const edit = await app.db.transaction()
    await edit.raw('select id from listings where id = ? for no key update', [listing.id])
    const pending = checkout(app, buyer)
    // Wait until the checkout is queued on the row lock.
    for (;;) {
      const { rows } = await app.db.raw(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      )
      if (rows[0].n > 0) break
      await new Promise((r) => setTimeout(r, 10))
    }
    await edit('listings').where('id', listing.id).update({ price: 12_000_00 })
    await edit.commit()

    const res = await pending
    t.equal(res.statusCode, 201, res.body)
    t.equal(res.json.order.total, 12_000_00, 'charged the price that holds under the lock')
    t.equal(res.json.order.items[0].unitPrice, 12_000_00)
    t.equal(Number((await app.db('orders').count({ n: '*' }).first())?.n), 1, 'the first attempt left nothing behind')
    t.equal(paystack.callsTo('/transaction/initialize').length, 1)
    t.match(paystack.callsTo('/transaction/initialize')[0]!.body, { amount: '1200000' })
  },
)
