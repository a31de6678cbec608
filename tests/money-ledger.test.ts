/**
 * Seller money, part one: the ledger at payment (sale, fee, VAT, coupon), release on
 * receipt, by hand-over code and by the sweeper, refunds before and after release, and the
 * database's own guarantees (append-only, journals that balance). Every test ends with the
 * ledger check (tests/helpers/reconcile.ts through commerceApp).
 */
import t from 'tap'
import { lineSplit, reversedAt, apportion, mulDivRound } from '../src/ledger/index.js'
import { call, type TestApp } from './helpers/app.js'
import { aCoupon, commerceApp, paidOrder, sweep } from './factories/commerce.js'
import { aListing } from './factories/listings.js'
import { balanceOf, moveTo, RATES } from './factories/money.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

async function sale(app: TestApp, price: number) {
  const seller = await aUser(app, { name: 'Sade Seller' })
  const buyer = await aUser(app, { name: 'Bola Buyer' })
  const listing = await aListing(app.db, seller.id, { price })
  return { seller, buyer, listing }
}

void t.test('the arithmetic: fee, VAT and reversals in whole kobo, nothing made or lost', async (t) => {
  t.same(lineSplit(7_500_000, RATES), { gross: 7_500_000, fee: 375_000, vat: 28_125, share: 7_096_875 })
  // 61 728.35 → 61 728 fee; 4 629.6 → 4 630 VAT.
  t.same(lineSplit(1_234_567, RATES), { gross: 1_234_567, fee: 61_728, vat: 4_630, share: 1_168_209 })
  t.equal(mulDivRound(1, 1, 2), 1, 'half rounds up')
  t.equal(mulDivRound(3, 1, 2), 2)
  t.equal(mulDivRound(Number.MAX_SAFE_INTEGER, 10_000, 10_000), Number.MAX_SAFE_INTEGER, 'exact past 2^53')
  const split = lineSplit(7_500_000, RATES)
  t.same(reversedAt(split, 7_500_000), split, 'a full refund reverses exactly')
  const part = reversedAt(split, 3_000_000)
  t.equal(part.share, 2_838_750)
  t.equal(part.share + part.fee + part.vat, 3_000_000, 'a partial reversal gives back exactly what was refunded')
  for (let i = 0; i < 2_000; i++) {
    const line = 1 + Math.floor(Math.random() * 100_000_000)
    const s = lineSplit(line, { feeBps: Math.floor(Math.random() * 3_000), vatBps: Math.floor(Math.random() * 2_000) })
    const r = reversedAt(s, Math.floor(Math.random() * line))
    if (s.gross !== s.fee + s.vat + s.share || s.share < 0 || r.share + r.fee + r.vat !== r.gross || r.share > s.share)
      t.fail(`split of ${line} does not add up: ${JSON.stringify({ s, r })}`)
    const weights = Array.from({ length: 1 + (i % 5) }, () => Math.floor(Math.random() * 1_000_000))
    const amount = Math.floor(Math.random() * weights.reduce((a, b) => a + b, 1))
    const parts = apportion(amount, weights)
    if (
      parts.reduce((a, b) => a + b, 0) !==
      Math.min(
        amount,
        weights.reduce((a, b) => a + b, 0),
      )
    )
      t.fail(`apportion(${amount}, ${weights.join(',')}) = ${parts.join(',')}`)
    if (parts.some((p, j) => p > weights[j]! || p < 0)) t.fail(`apportion over a weight: ${parts.join(',')}`)
  }
  t.pass('2 000 random splits, reversals and apportionments add up')
})

void t.test('at payment each seller’s share goes to pending, the coupon is the platform’s cost', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const sofa = await sale(app, 7_500_000)
  const lampSeller = await aUser(app, { name: 'Lola Lamps' })
  const lamp = await aListing(app.db, lampSeller.id, { price: 1_234_567 })
  const coupon = await aCoupon(app, { value: 10 })
  const order = await paidOrder(app, paystack, sofa.buyer, [sofa.listing.id, lamp.id], { couponCode: coupon.code })
  t.equal(order.paymentStatus, 'paid')
  t.ok(order.discount > 0, 'the coupon took something off')

  t.same(await balanceOf(app, sofa.seller), {
    currency: 'NGN',
    pending: 7_096_875,
    available: 0,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })
  t.equal((await balanceOf(app, lampSeller)).pending, 1_168_209, 'the coupon is never the seller’s cost')
  t.same(await balanceOf(app, sofa.buyer), {
    currency: 'NGN',
    pending: 0,
    available: 0,
    onHold: 0,
    inTransit: 0,
    paidOut: 0,
  })

  const ledger = await call(app, 'GET', '/v1/me/ledger', { token: sofa.seller.accessToken })
  t.equal(ledger.statusCode, 200)
  t.same(ledger.json.items.map((e: Json) => [e.type, e.bucket, e.amount]).sort(), [
    ['fee', 'pending', -375_000],
    ['sale', 'pending', 7_500_000],
    ['vat', 'pending', -28_125],
  ])
  t.ok(ledger.json.items.every((e: Json) => e.orderId === order.id && e.shipmentId))

  const { rows } = await app.db.raw<{ rows: { account: string; sum: number }[] }>(
    `select account, sum(amount)::bigint as sum from ledger_entries where order_id = ? group by account order by account`,
    [order.id],
  )
  const by = Object.fromEntries(rows.map((r) => [r.account, Number(r.sum)]))
  t.equal(by.coupon_cost, -order.discount, 'the coupon is posted as the platform’s cost')
  t.equal(by.platform_fees, 375_000 + 61_728)
  t.equal(by.vat_payable, 28_125 + 4_630, 'VAT on the fee is a tax liability')
  t.equal(by.paystack_clearing, -order.total - (by.paystack_fees ?? 0), 'Paystack holds the total less its fee')
  t.equal(
    rows.reduce((s, r) => s + Number(r.sum), 0),
    0,
    'the order’s entries sum to zero',
  )
  // Paying twice (a duplicate verify) posts nothing more.
  const again = await call(app, 'POST', `/v1/orders/${order.id}/verify-payment`, { token: sofa.buyer.accessToken })
  t.equal(again.statusCode, 200)
  t.equal((await balanceOf(app, sofa.seller)).pending, 7_096_875, 'a second confirmation posts nothing')
})

void t.test('release: when the buyer confirms receipt, once', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller, buyer, listing } = await sale(app, 7_500_000)
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const shipmentId = order.shipments[0].id
  await moveTo(app, seller, shipmentId, 'delivered')
  t.equal((await balanceOf(app, seller)).pending, 7_096_875, 'delivered is not enough')
  const received = await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })
  t.equal(received.statusCode, 200)
  t.match(await balanceOf(app, seller), { pending: 0, available: 7_096_875 })
  const note = await app.db('notifications').where({ user_id: seller.id, type: 'funds_released' }).first()
  t.match(note?.data, { shipmentId, amount: 7_096_875, reason: 'received' }, 'the seller is told')
  const events = await call(app, 'GET', '/v1/me/events', { token: seller.accessToken })
  t.ok(
    events.json.items.some((e: Json) => e.event === 'notification:new' && e.data.type === 'funds_released'),
    'live and in /v1/me/events',
  )
  t.equal(
    (await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })).statusCode,
    409,
  )
  t.equal((await balanceOf(app, seller)).available, 7_096_875, 'released once')
})

void t.test(
  'the hand-over code: only the buyer sees it, only the seller uses it, once; 5 wrong tries lock it',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const { seller, buyer, listing } = await sale(app, 7_500_000)
    const stranger = await aUser(app)
    const order = await paidOrder(app, paystack, buyer, [listing.id])
    const shipmentId = order.shipments[0].id
    const asBuyer = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
    const code = asBuyer.json.shipments[0].handoverCode as string
    t.match(code, /^\d{6}$/, 'the buyer sees a 6-digit code')
    const asSeller = await call(app, 'GET', `/v1/orders/${order.id}`, { token: seller.accessToken })
    t.notOk('handoverCode' in asSeller.json.shipments[0], 'the seller does not')
    const sales = await call(app, 'GET', '/v1/sales', { token: seller.accessToken })
    t.notOk(JSON.stringify(sales.json).includes(code), 'nor in the sales list')
    const admin = await anAdmin(app)
    const asAdmin = await call(app, 'GET', `/v1/orders/${order.id}`, { token: admin.accessToken })
    t.notOk('handoverCode' in asAdmin.json.shipments[0], 'nor does an admin')

    const wrong = code === '000000' ? '111111' : '000000'
    const enter = (user: SignedInUser, c: string) =>
      call(app, 'POST', `/v1/shipments/${shipmentId}/handover`, { token: user.accessToken, body: { code: c } })
    t.equal((await enter(buyer, code)).statusCode, 403, 'not the buyer')
    t.equal((await enter(stranger, code)).statusCode, 404, 'not a stranger')
    const bad = await enter(seller, 'abc')
    t.equal(bad.statusCode, 400)
    t.equal(bad.json.code, 'VALIDATION_FAILED')
    const miss = await enter(seller, wrong)
    t.equal(miss.statusCode, 422)
    t.equal(miss.json.code, 'HANDOVER_CODE_WRONG')
    t.equal(miss.json.triesLeft ?? miss.json.data?.triesLeft, 4)
    t.equal((await balanceOf(app, seller)).pending, 7_096_875, 'a wrong code releases nothing')

    const ok = await enter(seller, code)
    t.equal(ok.statusCode, 200)
    t.equal(ok.json.shipments[0].status, 'received')
    t.match(await balanceOf(app, seller), { pending: 0, available: 7_096_875 })
    const history = ok.json.shipments[0].history.at(-1)
    t.match(history, { status: 'received', actorId: seller.id })
    const twice = await enter(seller, code)
    t.equal(twice.statusCode, 409, 'the code works once')
    t.equal((await balanceOf(app, seller)).available, 7_096_875)
    const after = await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })
    t.notOk('handoverCode' in after.json.shipments[0], 'a received shipment shows no code')

    // Another shipment: five wrong tries lock it, even against the right code after.
    const second = await aListing(app.db, seller.id, { price: 500_000 })
    const order2 = await paidOrder(app, paystack, buyer, [second.id])
    const id2 = order2.shipments[0].id
    const code2 = (await call(app, 'GET', `/v1/orders/${order2.id}`, { token: buyer.accessToken })).json.shipments[0]
      .handoverCode as string
    const wrong2 = code2 === '000000' ? '111111' : '000000'
    const statuses: number[] = []
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await call(app, 'POST', `/v1/shipments/${id2}/handover`, {
            token: seller.accessToken,
            body: { code: wrong2 },
          })
        ).statusCode,
      )
    t.same(statuses, [422, 422, 422, 422, 423, 423], 'the 5th wrong code and every try after it: 423')
    const locked = await call(app, 'POST', `/v1/shipments/${id2}/handover`, {
      token: seller.accessToken,
      body: { code: code2 },
    })
    t.equal(locked.statusCode, 423)
    t.equal(locked.json.code, 'HANDOVER_LOCKED')
    t.equal((await balanceOf(app, seller)).pending, lineSplit(500_000, RATES).share)
    // The buyer can still confirm receipt the normal way.
    await moveTo(app, seller, id2, 'delivered')
    t.equal((await call(app, 'POST', `/v1/shipments/${id2}/received`, { token: buyer.accessToken })).statusCode, 200)
    t.equal((await balanceOf(app, seller)).pending, 0)
  },
)

void t.test('concurrent hand-overs with the right code release once', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller, buyer, listing } = await sale(app, 7_500_000)
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const shipmentId = order.shipments[0].id
  const code = (await call(app, 'GET', `/v1/orders/${order.id}`, { token: buyer.accessToken })).json.shipments[0]
    .handoverCode as string
  const answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      call(app, 'POST', `/v1/shipments/${shipmentId}/handover`, { token: seller.accessToken, body: { code } }),
    ),
  )
  t.equal(answers.filter((a) => a.statusCode === 200).length, 1, 'one hand-over')
  t.ok(answers.every((a) => a.statusCode === 200 || a.statusCode === 409))
  t.match(await balanceOf(app, seller), { pending: 0, available: 7_096_875 })
  t.equal(
    await app
      .db('ledger_journals')
      .where('kind', 'release')
      .count<{ count: string }[]>('* as count')
      .then((r) => Number(r[0]!.count)),
    1,
  )
})

void t.test(
  'refunds: before release from pending, after release from available; a full refund reverses exactly',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const admin = await anAdmin(app)
    const { seller, buyer, listing } = await sale(app, 7_500_000)
    const order = await paidOrder(app, paystack, buyer, [listing.id])
    const refund = (amount?: number) =>
      call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
        token: admin.accessToken,
        body: { reason: 'Scratched', ...(amount ? { amount } : {}) },
      })
    t.equal((await refund(3_000_000)).statusCode, 201)
    t.match(
      await balanceOf(app, seller),
      { pending: 7_096_875 - 2_838_750, available: 0 },
      'round_half_up(refund × share / line)',
    )
    const shipmentId = order.shipments[0].id
    await moveTo(app, seller, shipmentId, 'delivered')
    await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })
    t.match(await balanceOf(app, seller), { pending: 0, available: 4_258_125 })
    t.equal((await refund()).statusCode, 201, 'the rest')
    t.match(await balanceOf(app, seller), { pending: 0, available: 0 }, 'the full refund took back exactly the share')
    const { rows } = await app.db.raw<{ rows: { account: string; sum: number }[] }>(
      `select account, sum(amount)::bigint as sum from ledger_entries where order_id = ? group by account`,
      [order.id],
    )
    const by = Object.fromEntries(rows.map((r) => [r.account, Number(r.sum)]))
    t.equal(by.platform_fees ?? 0, 0, 'the fee is given back')
    t.equal(by.vat_payable ?? 0, 0, 'and its VAT')
    t.equal(by.refunds_payable ?? 0, 0, 'Paystack took both refunds on')
    const ledger = await call(app, 'GET', '/v1/me/ledger?limit=2', { token: seller.accessToken })
    t.equal(ledger.json.items.length, 2)
    t.equal(ledger.json.items[0].type, 'refund')
    t.equal(ledger.json.items[0].bucket, 'available', 'taken from where the money was')
    const next = await call(app, 'GET', `/v1/me/ledger?limit=50&cursor=${encodeURIComponent(ledger.json.nextCursor)}`, {
      token: seller.accessToken,
    })
    t.equal(
      next.json.items.length,
      5,
      'paged without gaps: sale, fee, vat, the first refund, the release (two entries)',
    )
  },
)

void t.test('a refund after release may take available below zero; a failed refund gives it back', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const { seller, buyer, listing } = await sale(app, 1_000_000)
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const shipmentId = order.shipments[0].id
  await moveTo(app, seller, shipmentId, 'delivered')
  await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })
  const share = lineSplit(1_000_000, RATES).share
  // The seller's available is spent elsewhere (an adjustment stands in for a payout here).
  await app.db.transaction(async (trx) =>
    app.ledger.adjust(
      { db: trx, log: app.log, pending: [] },
      {
        sellerId: seller.id,
        amount: -share,
        currency: 'NGN',
        note: 'test: paid out',
        key: `adj:${shipmentId}`,
        actorId: admin.id,
      },
    ),
  )
  t.equal((await balanceOf(app, seller)).available, 0)
  paystack.modes.refund = 'statusFalse'
  const res = await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
    token: admin.accessToken,
    body: { reason: 'Broken', amount: 400_000 },
  })
  t.equal(res.statusCode, 502, 'Paystack refused it')
  t.equal((await balanceOf(app, seller)).available, 0, 'a refused refund takes nothing back')
  paystack.modes.refund = 'ok'
  t.equal(
    (
      await call(app, 'POST', `/v1/admin/orders/${order.id}/refund`, {
        token: admin.accessToken,
        body: { reason: 'Broken', amount: 400_000 },
      })
    ).statusCode,
    201,
  )
  t.equal(
    (await balanceOf(app, seller)).available,
    -reversedAt(lineSplit(1_000_000, RATES), 400_000).share,
    'below zero',
  )
})

void t.test('the sweeper releases escrow ESCROW_RELEASE_DAYS after delivery, once, and not before', async (t) => {
  const { app, paystack } = await commerceApp(t, { ESCROW_RELEASE_DAYS: 0.00002 }) // about 1.7 s
  const { seller, buyer, listing } = await sale(app, 7_500_000)
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  const notDelivered = await paidOrder(app, paystack, buyer, [
    (await aListing(app.db, seller.id, { price: 200_000 })).id,
  ])
  await moveTo(app, seller, order.shipments[0].id, 'delivered')
  await moveTo(app, seller, notDelivered.shipments[0].id, 'en_route')
  t.equal(await app.releaseEscrow(), 0, 'not yet')
  await new Promise((r) => setTimeout(r, 2_000))
  const [released, again] = await Promise.all([app.releaseEscrow(), app.releaseEscrow()])
  t.equal(released + again, 1, 'one shipment released, by one of two concurrent runs')
  t.match(await balanceOf(app, seller), { available: 7_096_875, pending: lineSplit(200_000, RATES).share })
  const note = await app.db('notifications').where({ user_id: seller.id, type: 'funds_released' }).first()
  t.match(note?.data, { reason: 'timeout' })
  const ran = await sweep(app)
  t.equal(ran['ledger-release-escrow'] ?? 0, 0, 'the sweeper finds nothing left')
})

void t.test('the database keeps the ledger honest: append-only, journals that balance', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { buyer, listing } = await sale(app, 7_500_000)
  await paidOrder(app, paystack, buyer, [listing.id])
  await t.rejects(app.db('ledger_entries').update({ amount: 1 }), /append-only/, 'no UPDATE')
  await t.rejects(app.db('ledger_entries').del(), /append-only/, 'no DELETE')
  await t.rejects(app.db('ledger_journals').del(), /append-only/)
  await t.rejects(app.db.raw('truncate ledger_entries cascade'), /append-only/, 'no TRUNCATE')
  await t.rejects(
    app.db.transaction(async (trx) => {
      const [j] = await trx('ledger_journals').insert({ kind: 'test', dedupe_key: 'unbalanced' }).returning('id')
      await trx('ledger_entries').insert({ journal_id: j!.id, account: 'platform_fees', type: 'fee', amount: 100 })
    }),
    /does not balance/,
    'a journal that does not sum to zero is refused at commit',
  )
  await t.rejects(
    app.db.transaction(async (trx) => {
      const [j] = await trx('ledger_journals').insert({ kind: 'test', dedupe_key: 'seller-less' }).returning('id')
      await trx('ledger_entries').insert([
        { journal_id: j!.id, account: 'seller_available', type: 'adjustment', amount: 100 },
        { journal_id: j!.id, account: 'adjustments', type: 'adjustment', amount: -100 },
      ])
    }),
    /ledger_entries_seller/,
    'a seller bucket needs its seller',
  )
  const check = await call(app, 'GET', '/v1/admin/ledger/check', { token: (await anAdmin(app)).accessToken })
  t.equal(check.statusCode, 200)
  t.same(check.json, { balanced: true, mismatches: [] })
  const user = await aUser(app)
  t.equal((await call(app, 'GET', '/v1/admin/ledger/check', { token: user.accessToken })).statusCode, 403)
  t.equal((await call(app, 'GET', '/v1/me/balance')).statusCode, 401)
})

void t.test('the daily check records each run and tells admins what differs', async (t) => {
  // The test breaks Oja's records on purpose (a payment marked paid behind the ledger's back).
  const { app, paystack } = await commerceApp(t, { LEDGER_CHECK_INTERVAL_HOURS: 0.001 }, { reconcile: false })
  const admin = await anAdmin(app)
  const { buyer, listing } = await sale(app, 7_500_000)
  await paidOrder(app, paystack, buyer, [listing.id])
  await sweep(app)
  t.equal(
    await app
      .db('ledger_checks')
      .count<{ n: string }[]>('* as n')
      .then((r) => Number(r[0]!.n)),
    1,
    'a fresh database only starts the clock',
  )
  await app.db('ledger_checks').update({ started_at: app.db.raw("now() - interval '1 hour'") })
  await sweep(app)
  const seen: string[] = []
  const waitForRun = async () => {
    for (let i = 0; i < 100; i++) {
      const run = await app
        .db('ledger_checks')
        .whereNotNull('mismatches')
        .whereNotIn('id', seen)
        .orderBy('started_at', 'desc')
        .first()
      if (run?.finished_at) {
        seen.push(run.id)
        return run
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error('the ledger check did not finish')
  }
  const clean = await waitForRun()
  t.equal(clean.balanced, true, 'a clean ledger')
  t.same(clean.mismatches, [])

  const other = await aListing(app.db, (await aUser(app)).id, { price: 300_000 })
  const pending = await call(app, 'PUT', `/v1/cart/items/${other.id}`, {
    token: buyer.accessToken,
    body: { quantity: 1 },
  })
  t.equal(pending.statusCode, 200)
  const co = await call(app, 'POST', '/v1/checkout', {
    token: buyer.accessToken,
    body: {
      address: { fullName: 'Bola', phone: '+2348012345678', line1: '1 Allen Ave', city: 'Ikeja', state: 'Lagos' },
    },
    headers: { 'idempotency-key': 'daily-check' },
  })
  t.equal(co.statusCode, 201)
  await app.db('payments').where('order_id', co.json.order.id).update({ status: 'success', paid_at: app.db.fn.now() })
  await app.db('ledger_checks').update({ started_at: app.db.raw("now() - interval '1 hour'") })
  await sweep(app)
  const broken = await waitForRun()
  t.equal(broken.balanced, false)
  t.match(broken.mismatches, [{ kind: 'capture_mismatch', ref: co.json.order.id }])
  const note = await app.db('notifications').where({ user_id: admin.id, type: 'ledger_mismatch' }).first()
  t.match(note?.data, { checkId: broken.id, count: 1 }, 'admins are told')
  const live = await call(app, 'GET', '/v1/admin/ledger/check', { token: admin.accessToken })
  t.equal(live.json.balanced, false, 'and the live check agrees')
})

void t.test('a seller’s ledger is theirs alone, and its cursor cannot be forged', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller, buyer, listing } = await sale(app, 7_500_000)
  await paidOrder(app, paystack, buyer, [listing.id])
  const other = await aUser(app)
  const theirs = await call(app, 'GET', '/v1/me/ledger', { token: other.accessToken })
  t.equal(theirs.statusCode, 200)
  t.same(theirs.json, { items: [], nextCursor: null }, 'another user sees none of the seller’s entries')
  t.same((await call(app, 'GET', '/v1/me/ledger', { token: buyer.accessToken })).json.items, [], 'nor does the buyer')
  const first = await call(app, 'GET', '/v1/me/ledger?limit=1', { token: seller.accessToken })
  t.equal(first.json.items.length, 1)
  const cursor = first.json.nextCursor as string
  const forged = `${cursor.slice(0, -2)}${cursor.endsWith('A') ? 'B' : 'A'}${cursor.slice(-1)}`
  const bad = await call(app, 'GET', `/v1/me/ledger?cursor=${encodeURIComponent(forged)}`, {
    token: seller.accessToken,
  })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json.code, 'VALIDATION_FAILED')
  const ok = await call(app, 'GET', `/v1/me/ledger?cursor=${encodeURIComponent(cursor)}`, { token: seller.accessToken })
  t.equal(ok.json.items.length, 2, 'the real cursor pages on')
})
