import t from 'tap'
import { call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing } from './factories/listings.js'
import {
  aCoupon,
  available,
  commerceApp,
  expireWindow,
  pendingCheckout,
  postWebhook,
  sweep,
  toCart,
} from './factories/commerce.js'

const count = async (q: Promise<{ n?: unknown } | undefined>) => Number((await q)?.n ?? 0)

void t.test('20 duplicate charge.success webhooks at once plus a verify call: one paid transition', async (t) => {
  const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 20 })
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { quantity: 1 })
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  paystack.pay(reference)

  const hook = paystack.chargeSuccess(reference)
  const [verify, ...hooks] = await Promise.all([
    call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken }),
    ...Array.from({ length: 20 }, () => postWebhook(app, hook)),
  ])
  await app.commerce.idle()
  t.equal(verify.statusCode, 200, verify.body)
  t.equal(verify.json.paymentStatus, 'paid')
  t.ok(
    hooks.every((h) => h.statusCode === 200),
    'every webhook answered 200',
  )
  t.equal(hooks.filter((h) => h.json.duplicate === false).length, 1, 'one stored, 19 recognised as duplicates')
  t.equal(await count(app.db('payment_events').count({ n: '*' }).first()), 1)

  t.equal(
    await count(app.db('audit_log').where('action', 'payment.paid').count({ n: '*' }).first()),
    1,
    'one paid transition',
  )
  const l = (await app.db('listings').where('id', listing.id).first())!
  t.equal(l.sold_quantity, 1, 'sold once')
  t.equal(l.status, 'sold', 'no quantity left: sold')
  t.equal(
    (await app.db('reservations').where('order_id', orderId).whereNotNull('converted_at')).length,
    1,
    'the reservation became a sale',
  )
  const paidEvents = (await app.db('user_events').where({ user_id: buyer.id, event: 'order:status' })).filter(
    (e) => e.data.paymentStatus === 'paid',
  )
  t.equal(paidEvents.length, 1, 'one paid event for the buyer')
  t.equal(
    (await app.db('user_events').where({ user_id: seller.id, event: 'order:status' })).length,
    1,
    'and one for the seller',
  )
  t.equal(
    (await app.db('notifications').where({ type: 'order_status' }).whereIn('user_id', [buyer.id, seller.id])).length,
    2,
    'one notification each',
  )
  t.equal(
    (
      await app
        .db('mail_outbox')
        .whereIn('to_address', [buyer.email, seller.email])
        .andWhere('subject', 'not like', '%Confirm your email%')
    ).length,
    2,
    'the receipt and the sale mail',
  )
  t.same(await app.db('cart_items').where('user_id', buyer.id), [], 'the bought line left the cart')

  // The confirm step itself is idempotent, whatever dedupe lets through.
  const again = await Promise.all(
    Array.from({ length: 10 }, () => app.commerce.payments.confirmByReference({ db: app.db, log: app.log }, reference)),
  )
  t.ok(again.every((r) => r.outcome === 'already'))
  t.equal(await count(app.db('audit_log').where('action', 'payment.paid').count({ n: '*' }).first()), 1)
})

void t.test('confirm steps racing past dedupe still make one transition', async (t) => {
  const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 20 })
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { quantity: 2 })
  const { reference } = await pendingCheckout(app, buyer, listing.id)
  paystack.pay(reference)
  const results = await Promise.all(
    Array.from({ length: 15 }, () => app.commerce.payments.confirmByReference({ db: app.db, log: app.log }, reference)),
  )
  t.equal(results.filter((r) => r.outcome === 'paid').length, 1, 'one caller made it paid')
  t.equal(results.filter((r) => r.outcome === 'already').length, 14)
  t.equal((await app.db('listings').where('id', listing.id).first())!.sold_quantity, 1)
})

void t.test('a forged signature changes nothing', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id)
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  paystack.pay(reference)
  const real = paystack.chargeSuccess(reference)

  const attempts = [
    {
      name: 'signed with another key',
      headers: {
        'content-type': 'application/json',
        'x-paystack-signature': paystack.sign(real.payload, 'sk_test_attacker'),
      },
      payload: real.payload,
    },
    { name: 'no signature', headers: { 'content-type': 'application/json' }, payload: real.payload },
    {
      name: 'signature of another body',
      headers: real.headers,
      payload: real.payload.replace('"charge.success"', '"charge.success" '),
    },
    {
      name: 'truncated signature',
      headers: { ...real.headers, 'x-paystack-signature': real.headers['x-paystack-signature']!.slice(0, 64) },
      payload: real.payload,
    },
    { name: 'not hex', headers: { ...real.headers, 'x-paystack-signature': 'z'.repeat(128) }, payload: real.payload },
    {
      name: 'forged body, no valid signature',
      headers: real.headers,
      payload: JSON.stringify({ event: 'charge.success', data: { reference, amount: 1 } }),
    },
  ]
  for (const a of attempts) {
    const res = await postWebhook(app, a)
    t.equal(res.statusCode, 401, `${a.name}: 401`)
    t.equal(res.json.code, 'WEBHOOK_SIGNATURE_INVALID')
  }
  await app.commerce.idle()
  t.equal(await count(app.db('payment_events').count({ n: '*' }).first()), 0, 'nothing stored')
  t.equal(
    (await app.db('orders').where('id', orderId).first())!.payment_status,
    'pending',
    'the order is still pending',
  )
  t.equal(paystack.callsTo('/transaction/verify').length, 0, 'Paystack was not even asked')
})

for (const mode of ['tamperAmount', 'wrongCurrency'] as const) {
  void t.test(
    `a signed webhook whose verification shows ${mode === 'tamperAmount' ? 'a tampered amount' : 'a wrong currency'} changes nothing`,
    async (t) => {
      const { app, paystack } = await commerceApp(t)
      const seller = await aUser(app)
      const buyer = await aUser(app)
      const listing = await aListing(app.db, seller.id)
      const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
      paystack.pay(reference)
      paystack.modes.verify = mode
      const hook = await postWebhook(app, paystack.chargeSuccess(reference))
      t.equal(hook.statusCode, 200, 'the webhook itself is genuine')
      await app.commerce.idle()
      const order = (await app.db('orders').where('id', orderId).first())!
      t.equal(order.payment_status, 'pending', 'not paid')
      t.equal((await app.db('listings').where('id', listing.id).first())!.sold_quantity, 0, 'nothing sold')
      t.equal(
        (await app.db('reservations').where('order_id', orderId).whereNull('converted_at').whereNull('released_at'))
          .length,
        1,
        'the reservation is untouched',
      )
      t.equal((await app.db('payments').where('order_id', orderId).first())!.status, 'pending')
      t.equal(
        await count(
          app.db('audit_log').where({ action: 'payment.mismatch', target_id: orderId }).count({ n: '*' }).first(),
        ),
        1,
        'the mismatch is audited',
      )
      const verify = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })
      t.equal(verify.statusCode, 409)
      t.equal(verify.json.code, 'PAYMENT_NOT_VERIFIED')
      t.equal((await app.db('orders').where('id', orderId).first())!.payment_status, 'pending')
    },
  )
}

void t.test('verify-payment asks Paystack and answers for what it says', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const stranger = await aUser(app)
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id)
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)

  const notYet = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken, body: {} })
  t.equal(notYet.statusCode, 409)
  t.equal(notYet.json.code, 'PAYMENT_NOT_VERIFIED')
  t.equal(notYet.json.providerStatus, 'ongoing')
  t.equal(
    (await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: stranger.accessToken })).statusCode,
    404,
    'a stranger does not see it',
  )
  t.equal(
    (await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: seller.accessToken })).statusCode,
    404,
    'the seller may not (an unpaid order is nothing to its seller yet)',
  )
  t.equal(
    (
      await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, {
        token: buyer.accessToken,
        body: { paid: true },
      })
    ).statusCode,
    400,
    'no body fields',
  )

  paystack.modes.verify = 'error500'
  const down = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })
  t.equal(down.statusCode, 503)
  t.equal(down.json.code, 'PAYMENT_PROVIDER_UNAVAILABLE')
  paystack.modes.verify = 'ok'
  paystack.decline(reference)
  const declined = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })
  t.equal(declined.json.providerStatus, 'failed')
  t.equal(
    (await app.db('orders').where('id', orderId).first())!.payment_status,
    'pending',
    'the buyer may still pay until the window closes',
  )

  paystack.transactions.get(reference)!.status = 'ongoing'
  paystack.pay(reference)
  const byAdmin = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: admin.accessToken })
  t.equal(byAdmin.statusCode, 200)
  t.equal(byAdmin.json.paymentStatus, 'paid')
  t.equal(decodeURIComponent(paystack.callsTo('/transaction/verify/').at(-1)!.path.split('/').pop()!), reference)
  const calls = paystack.callsTo('/transaction/verify').length
  const already = await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })
  t.equal(already.json.paymentStatus, 'paid')
  t.equal(paystack.callsTo('/transaction/verify').length, calls, 'a paid order is not verified again')
})

void t.test('reservation expiry frees stock; the sweeper expires the checkout and gives the coupon back', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const [slow, quick] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 1 })
  const coupon = await aCoupon(app, { usage_limit: 1 })
  const first = await pendingCheckout(app, slow, listing.id, { couponCode: coupon.code })
  t.equal(await available(app, listing.id), 0)
  await toCart(app, quick, listing.id).then((r) => t.equal(r.json.code, 'OUT_OF_STOCK', 'held by the first buyer'))

  await expireWindow(app, first.orderId)
  t.equal(await available(app, listing.id), 1, 'an expired reservation no longer counts, before any sweep')
  t.equal((await toCart(app, quick, listing.id)).statusCode, 200)

  const swept = await sweep(app)
  t.equal(swept['commerce-expire-checkouts'], 1)
  const order = (await app.db('orders').where('id', first.orderId).first())!
  t.equal(order.payment_status, 'expired')
  t.equal((await app.db('payments').where('order_id', first.orderId).first())!.status, 'expired')
  t.ok((await app.db('reservations').where('order_id', first.orderId).first())!.released_at, 'released')
  t.equal((await app.db('coupons').where('id', coupon.id).first())!.used_count, 0, 'the coupon use is back')
  t.ok((await app.db('shipments').where('order_id', first.orderId)).every((s) => s.status === 'cancelled'))
  t.equal(
    (await app.db('notifications').where({ user_id: slow.id, type: 'order_status' })).length,
    1,
    'the buyer is told',
  )
  t.equal(paystack.callsTo('/transaction/verify').length, 1, 'Paystack was asked once more before expiring')

  const second = await pendingCheckout(app, quick, listing.id, { couponCode: coupon.code })
  t.ok(second.orderId, 'the next buyer gets the unit and the coupon')
})

void t.test('a late payment after the stock is gone is refunded and the buyer told', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const [late, other] = [await aUser(app), await aUser(app)]
  const listing = await aListing(app.db, seller.id, { quantity: 1, price: 12_000_00 })
  const first = await pendingCheckout(app, late, listing.id)
  await expireWindow(app, first.orderId)
  await sweep(app)
  // Someone else buys the unit.
  const second = await pendingCheckout(app, other, listing.id)
  paystack.pay(second.reference)
  t.equal(
    (await call(app, 'POST', `/v1/orders/${second.orderId}/verify-payment`, { token: other.accessToken })).json
      .paymentStatus,
    'paid',
  )

  // The first buyer's payment lands now.
  paystack.pay(first.reference)
  t.equal((await postWebhook(app, paystack.chargeSuccess(first.reference))).statusCode, 200)
  await app.commerce.idle()
  const order = await call(app, 'GET', `/v1/orders/${first.orderId}`, { token: late.accessToken })
  t.equal(order.json.paymentStatus, 'refunded')
  t.equal(order.json.refundedAmount, 12_000_00)
  t.match(order.json.refunds, [{ amount: 12_000_00, origin: 'late_payment', status: 'processing' }])
  t.equal(paystack.refunds.length, 1, 'Paystack was asked to refund')
  t.match(paystack.refunds[0], { amount: 12_000_00, merchant_note: `oja-refund:${order.json.refunds[0].id}` })
  t.equal(paystack.refunds[0]!.transaction.reference, first.reference)
  const l = (await app.db('listings').where('id', listing.id).first())!
  t.equal(l.sold_quantity, 1, 'the unit was sold once, to the other buyer')
  t.ok(
    (await app.db('notifications').where({ user_id: late.id, type: 'order_status' })).some(
      (n) => n.data.paymentStatus === 'refunded',
    ),
    'the buyer is told',
  )
  t.equal(
    (await app.db('mail_outbox').where('to_address', late.email).andWhere('subject', 'like', 'Refund%')).length,
    1,
    'and mailed',
  )
  t.equal(
    await count(
      app.db('audit_log').where({ action: 'payment.late_refund', target_id: first.orderId }).count({ n: '*' }).first(),
    ),
    1,
  )
  t.equal(
    (await app.db('user_events').where({ user_id: seller.id }).whereRaw("data->>'orderId' = ?", [first.orderId]))
      .length,
    0,
    'the seller never hears of the refunded order',
  )
})

void t.test('a late payment while the stock is still there is honoured', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { quantity: 1 })
  const coupon = await aCoupon(app, { usage_limit: 1 })
  const first = await pendingCheckout(app, buyer, listing.id, { couponCode: coupon.code })
  await expireWindow(app, first.orderId)
  await sweep(app)
  t.equal((await app.db('coupons').where('id', coupon.id).first())!.used_count, 0)
  paystack.pay(first.reference)
  const v = await call(app, 'POST', `/v1/orders/${first.orderId}/verify-payment`, { token: buyer.accessToken })
  t.equal(v.json.paymentStatus, 'paid')
  t.ok(
    v.json.shipments.every((s: { status: string }) => s.status === 'pending'),
    'shipments reopened',
  )
  t.equal((await app.db('listings').where('id', listing.id).first())!.status, 'sold')
  t.equal((await app.db('coupons').where('id', coupon.id).first())!.used_count, 1, 'the coupon use counts again')
})

void t.test('the sweeper re-verifies a payment whose webhook and redirect were lost', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id)
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  paystack.pay(reference)
  t.equal((await sweep(app))['commerce-reverify-payments'], 0, 'too recent to ask about')
  await app
    .db('payments')
    .where('order_id', orderId)
    .update({ created_at: app.db.raw("now() - interval '2 minutes'") })
  const swept = await sweep(app)
  t.equal(swept['commerce-reverify-payments'], 1)
  t.equal((await app.db('orders').where('id', orderId).first())!.payment_status, 'paid')
})

void t.test('a webhook whose processing fails is retried by the sweeper', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id)
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  paystack.pay(reference)
  paystack.modes.verify = 'error500'
  t.equal((await postWebhook(app, paystack.chargeSuccess(reference))).statusCode, 200, 'answered 200 at once')
  await app.commerce.idle()
  const ev = (await app.db('payment_events').first())!
  t.equal(ev.processed_at, null)
  t.equal(ev.attempts, 1)
  t.equal((await app.db('orders').where('id', orderId).first())!.payment_status, 'pending')
  paystack.modes.verify = 'ok'
  await app.db('payment_events').update({ received_at: app.db.raw("now() - interval '1 minute'") })
  await sweep(app)
  t.ok((await app.db('payment_events').first())!.processed_at, 'processed on replay')
  t.equal((await app.db('orders').where('id', orderId).first())!.payment_status, 'paid')
})

void t.test('webhooks from outside the allow-list are refused; unknown references are ignored', async (t) => {
  const { app, paystack } = await commerceApp(t, { PAYSTACK_WEBHOOK_IPS: '52.31.139.75, 52.49.173.169' })
  const hook = paystack.webhook('charge.success', {
    id: 1,
    reference: 'not-ours',
    amount: 100,
    currency: 'NGN',
    status: 'success',
  })
  const local = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/paystack',
    headers: hook.headers,
    payload: hook.payload,
  })
  t.equal(local.statusCode, 403)
  t.equal(local.json().code, 'WEBHOOK_SOURCE_NOT_ALLOWED')
  const fromPaystack = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/paystack',
    headers: hook.headers,
    payload: hook.payload,
    remoteAddress: '52.49.173.169',
  })
  t.equal(fromPaystack.statusCode, 200)
  await app.commerce.idle()
  t.ok((await app.db('payment_events').first())!.processed_at, 'processed: not ours, nothing to do')
  t.equal(paystack.calls.length, 0)
})

void t.test('refund webhooks: amounts as strings or numbers, processed and failed', async (t) => {
  // No reconciliation at the end: the fake is made to list more refunds than was captured
  // (which Paystack refuses), to show that a webhook whose amount Paystack does not list is ignored.
  const { app, paystack } = await commerceApp(t, {}, { reconcile: false })
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const admin = await anAdmin(app)
  const listing = await aListing(app.db, seller.id, { price: 30_000_00 })
  const { orderId, reference } = await pendingCheckout(app, buyer, listing.id)
  // A refund webhook for a payment never confirmed: nothing of it can have been refunded.
  await postWebhook(
    app,
    paystack.webhook('refund.processed', {
      id: 1,
      status: 'processed',
      transaction_reference: reference,
      amount: '3000000',
      currency: 'NGN',
    }),
  )
  await app.commerce.idle()
  t.match(
    await app.db('orders').where('id', orderId).first(),
    { payment_status: 'pending', refunded_amount: 0 },
    'a refund of an unpaid order is ignored',
  )
  t.same(await app.db('payment_events').whereNull('processed_at').select('id'), [], 'and not retried')
  await app.db('payment_events').delete()
  paystack.pay(reference)
  await call(app, 'POST', `/v1/orders/${orderId}/verify-payment`, { token: buyer.accessToken })
  const first = await call(app, 'POST', `/v1/admin/orders/${orderId}/refund`, {
    token: admin.accessToken,
    body: { amount: 10_000_00, reason: 'Scratched' },
  })
  t.equal(first.statusCode, 201, first.body)
  const refund = first.json.refund
  const providerId = paystack.refunds[0]!.id

  // refund.processed with the amount as a string, while Paystack still lists it as pending:
  // nothing is applied yet; the stored event is retried once Paystack agrees.
  const processedHook = paystack.webhook('refund.processed', {
    id: String(providerId),
    status: 'processed',
    transaction_reference: reference,
    refund_reference: 'RF1',
    amount: '1000000',
    currency: 'NGN',
  })
  await postWebhook(app, processedHook)
  await app.commerce.idle()
  t.equal(
    (await app.db('refunds').where('id', refund.id).first())!.status,
    'processing',
    'not processed on the webhook’s word alone',
  )
  const early = (await app.db('payment_events').where('event', 'refund.processed').first())!
  t.equal(early.processed_at, null, 'kept for a retry')
  t.match(early.last_error, /pending, not processed yet/)
  paystack.refunds[0]!.status = 'processed'
  await app
    .db('payment_events')
    .where('id', early.id)
    .update({ received_at: app.db.raw("now() - interval '1 minute'") })
  await sweep(app)
  const r1 = (await app.db('refunds').where('id', refund.id).first())!
  t.equal(r1.status, 'processed')
  t.ok(r1.processed_at)

  // A second refund, then refund.failed with a numeric amount: it no longer counts.
  const second = await call(app, 'POST', `/v1/admin/orders/${orderId}/refund`, {
    token: admin.accessToken,
    body: { amount: 5_000_00, reason: 'Goodwill' },
  })
  t.equal(second.json.order.paymentStatus, 'partially_refunded')
  t.equal(second.json.order.refundedAmount, 15_000_00)
  paystack.refunds[1]!.status = 'failed'
  await postWebhook(
    app,
    paystack.webhook('refund.failed', {
      id: paystack.refunds[1]!.id,
      status: 'failed',
      transaction_reference: reference,
      amount: 5_000_00,
      currency: 'NGN',
    }),
  )
  await app.commerce.idle()
  const order = (await app.db('orders').where('id', orderId).first())!
  t.equal((await app.db('refunds').where('id', second.json.refund.id).first())!.status, 'failed')
  t.equal(order.refunded_amount, 10_000_00, 'the failed refund no longer counts')
  t.equal(order.payment_status, 'partially_refunded')
  t.equal(
    (await app.db('notifications').where({ user_id: admin.id, type: 'refund_failed' })).length,
    1,
    'admins are told',
  )

  // Signed, but Paystack lists no such refund: nothing changes, and the event waits for a
  // retry (Paystack's list may lag its webhook).
  await postWebhook(
    app,
    paystack.webhook('refund.processed', {
      status: 'processed',
      transaction_reference: reference,
      refund_reference: 'RF-none',
      amount: '1999999',
      currency: 'NGN',
    }),
  )
  const dashboardHook = paystack.webhook('refund.processed', {
    id: 99_999,
    status: 'processed',
    transaction_reference: reference,
    amount: '2000000',
    currency: 'NGN',
  })
  await postWebhook(app, dashboardHook)
  await app.commerce.idle()
  t.match(
    await app.db('orders').where('id', orderId).first(),
    { refunded_amount: 10_000_00, payment_status: 'partially_refunded' },
    'an unlisted refund changes nothing',
  )
  const waiting = await app
    .db('payment_events')
    .whereNull('processed_at')
    .orderBy('received_at')
    .select('id', 'last_error')
  t.equal(waiting.length, 2, 'both kept for a retry')
  t.match(waiting[0]!.last_error, /lists no refund/)

  // Listed with another amount than the webhook says: ignored for good.
  const other = paystack.dashboardRefund(reference, 1_000_00)
  await postWebhook(
    app,
    paystack.webhook('refund.processed', {
      id: other.id,
      status: 'processed',
      transaction_reference: reference,
      amount: '2500000',
      currency: 'NGN',
    }),
  )
  await app.commerce.idle()
  t.equal(
    (await app.db('orders').where('id', orderId).first())!.refunded_amount,
    10_000_00,
    'an amount Paystack does not list is ignored',
  )
  t.equal((await app.db('payment_events').whereNull('processed_at')).length, 2, 'and not retried')

  // A refund made on the Paystack dashboard shows up in Paystack's list: the retry records it.
  const dashboard = paystack.dashboardRefund(reference, 20_000_00)
  dashboard.id = 99_999
  await app
    .db('payment_events')
    .whereNull('processed_at')
    .update({ received_at: app.db.raw("now() - interval '1 minute'") })
  await sweep(app)
  const after = (await app.db('orders').where('id', orderId).first())!
  t.equal(after.payment_status, 'refunded')
  t.equal(after.refunded_amount, 30_000_00)
  t.match(await app.db('refunds').where({ order_id: orderId, origin: 'provider' }).first(), {
    amount: 20_000_00,
    status: 'processed',
  })
})
