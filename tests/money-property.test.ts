/**
 * The money property: random interleavings of everything that moves money — pay, late pay,
 * cancel, partial and full refunds (Oja's and Paystack-dashboard ones), refunds processed,
 * release on receipt and by hand-over code, the release sweeper, disputes and their
 * resolutions, payouts and their outcomes, duplicate webhooks — and after every step:
 * the ledger sums to zero, every balance equals its entries, every escrow row equals its
 * entries, and Paystack's own record (the fake's transactions, refunds and transfers) equals
 * the ledger's (app.ledger.check plus tests/helpers/reconcile.ts).
 *
 * Seeded: a failure prints its seed and the steps so far; `MONEY_SEED=<n>` replays it.
 */
import t, { type Test } from 'tap'
import { call, type Json, type TestApp } from './helpers/app.js'
import { reconcile } from './helpers/reconcile.js'
import { aCoupon, checkout, commerceApp, expireWindow, postWebhook, sweep, toCart } from './factories/commerce.js'
import type { FakePaystack } from './fakes/paystack.js'
import { aListing } from './factories/listings.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'

/** mulberry32: a small seeded generator. */
function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296
  }
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  }
}

type World = {
  app: TestApp
  paystack: FakePaystack
  sellers: SignedInUser[]
  buyers: SignedInUser[]
  admin: SignedInUser
  coupon: string
  r: ReturnType<typeof rng>
  /** Orders made so far: id, buyer, payment reference. */
  orders: { id: string; buyer: SignedInUser; reference: string | null }[]
}

type Step = { name: string; run: (w: World) => Promise<string> }

/** A refund.* webhook as Paystack sends it (its data names the transaction by reference). */
const refundHook = (
  paystack: FakePaystack,
  event: string,
  r: { id: number; amount: number; transaction: { reference: string } },
) =>
  paystack.webhook(event, {
    id: r.id,
    status: event.slice('refund.'.length),
    transaction_reference: r.transaction.reference,
    refund_reference: `RF${r.id}`,
    amount: String(r.amount),
    currency: 'NGN',
  })

const ok = <R extends { statusCode: number; body: string }>(res: R, ...codes: number[]): R => {
  if (!codes.includes(res.statusCode)) throw new Error(`unexpected ${res.statusCode}: ${res.body.slice(0, 300)}`)
  return res
}

/** A new checkout by a random buyer over 1–2 listings of random sellers, maybe with the coupon. */
async function newCheckout(
  w: World,
): Promise<{ order: Json; buyer: SignedInUser; reference: string | null } | undefined> {
  const buyer = w.r.pick(w.buyers)
  await call(w.app, 'DELETE', '/v1/cart', { token: buyer.accessToken })
  const n = w.r.int(1, 2)
  for (let i = 0; i < n; i++) {
    const seller = w.r.pick(w.sellers)
    const listing = await aListing(w.app.db, seller.id, { price: w.r.int(1, 5_000) * 1_000 + w.r.int(0, 999) })
    ok(await toCart(w.app, buyer, listing.id), 200)
  }
  let res = await checkout(w.app, buyer, w.r.chance(0.3) ? { couponCode: w.coupon } : {})
  // The coupon may be used up for this buyer: then without it.
  if (res.statusCode !== 201 && String(res.json.code).startsWith('COUPON_')) res = await checkout(w.app, buyer)
  if (res.statusCode !== 201) throw new Error(`checkout ${res.statusCode} ${res.body}`)
  const reference = (res.json.payment?.reference as string | undefined) ?? null
  w.orders.push({ id: res.json.order.id, buyer, reference })
  return { order: res.json.order, buyer, reference }
}

const paidOrders = async (w: World) =>
  (
    await w.app
      .db('orders')
      .whereIn(
        'id',
        w.orders.map((o) => o.id),
      )
      .whereIn('payment_status', ['paid', 'partially_refunded'])
      .whereNull('cancelled_at')
      .select('id')
  ).map((r: { id: string }) => w.orders.find((o) => o.id === r.id)!)

const openShipments = async (w: World) =>
  (await w.app
    .db('shipments as s')
    .join('orders as o', 'o.id', 's.order_id')
    .join('shipment_money as m', 'm.shipment_id', 's.id')
    .whereIn('o.payment_status', ['paid', 'partially_refunded'])
    .whereNull('o.cancelled_at')
    .whereNotIn('s.status', ['received', 'cancelled'])
    .select('s.id', 's.order_id', 's.seller_id', 's.status', 'o.buyer_id', 'm.state', 'm.handover_code')) as {
    id: string
    order_id: string
    seller_id: string
    status: string
    buyer_id: string
    state: string
    handover_code: string
  }[]

const steps: Step[] = [
  {
    name: 'pay',
    run: async (w) => {
      const made = await newCheckout(w)
      if (!made?.reference) return 'a zero-total order'
      w.paystack.pay(made.reference)
      if (w.r.chance(0.5)) ok(await postWebhook(w.app, w.paystack.chargeSuccess(made.reference)), 200)
      else
        ok(
          await call(w.app, 'POST', `/v1/orders/${made.order.id}/verify-payment`, { token: made.buyer.accessToken }),
          200,
        )
      return `order ${made.order.id} paid`
    },
  },
  {
    name: 'late pay',
    run: async (w) => {
      const made = await newCheckout(w)
      if (!made?.reference) return 'a zero-total order'
      await expireWindow(w.app, made.order.id)
      await sweep(w.app)
      w.paystack.pay(made.reference)
      ok(await postWebhook(w.app, w.paystack.chargeSuccess(made.reference)), 200)
      return `order ${made.order.id} paid late`
    },
  },
  {
    name: 'duplicate webhook',
    run: async (w) => {
      const paid = w.orders.filter((o) => o.reference && w.paystack.transactions.get(o.reference)?.status === 'success')
      if (paid.length === 0) return 'nothing paid yet'
      const o = w.r.pick(paid)
      const hook = w.paystack.chargeSuccess(o.reference!)
      await Promise.all([postWebhook(w.app, hook), postWebhook(w.app, hook)])
      return `charge.success for ${o.id} twice more`
    },
  },
  {
    name: 'cancel',
    run: async (w) => {
      const o = w.r.pick([...(await paidOrders(w)), undefined])
      if (!o) return 'nothing to cancel'
      const res = ok(await call(w.app, 'POST', `/v1/orders/${o.id}/cancel`, { token: o.buyer.accessToken }), 200, 409)
      return `cancel ${o.id}: ${res.statusCode}`
    },
  },
  {
    name: 'partial refund',
    run: async (w) => {
      const o = w.r.pick([...(await paidOrders(w)), undefined])
      if (!o) return 'nothing to refund'
      const row = await w.app.db('orders').where('id', o.id).first()
      const rest = row.total - row.refunded_amount
      if (rest <= 0) return 'nothing left'
      const amount = w.r.chance(0.2) ? undefined : w.r.int(1, rest)
      const res = ok(
        await call(w.app, 'POST', `/v1/admin/orders/${o.id}/refund`, {
          token: w.admin.accessToken,
          body: { reason: 'property', ...(amount ? { amount } : {}) },
        }),
        201,
        202,
        409,
      )
      return `refund ${amount ?? 'all'} of ${o.id}: ${res.statusCode}`
    },
  },
  {
    name: 'dashboard refund',
    run: async (w) => {
      const o = w.r.pick([...(await paidOrders(w)), undefined])
      if (!o?.reference) return 'nothing to refund'
      const tx = w.paystack.transactions.get(o.reference)!
      const left = tx.amount - tx.refunded
      if (left <= 0) return 'nothing left at Paystack'
      const refund = w.paystack.dashboardRefund(o.reference, w.r.int(1, left))
      ok(await postWebhook(w.app, refundHook(w.paystack, 'refund.processed', refund)), 200)
      return `dashboard refund of ${refund.amount} on ${o.id}`
    },
  },
  {
    name: 'refund processed',
    run: async (w) => {
      const pending = w.paystack.refunds.filter((x) => x.status === 'pending')
      if (pending.length === 0) return 'no refund pending at Paystack'
      const refund = w.r.pick(pending)
      refund.status = 'processed'
      ok(await postWebhook(w.app, refundHook(w.paystack, 'refund.processed', refund)), 200)
      return `refund ${refund.id} processed`
    },
  },
  {
    name: 'deliver and receive',
    run: async (w) => {
      const s = w.r.pick([...(await openShipments(w)), undefined])
      if (!s) return 'no open shipment'
      const seller = w.sellers.find((x) => x.id === s.seller_id)!
      const buyer = w.buyers.find((x) => x.id === s.buyer_id)!
      if (s.status !== 'delivered')
        ok(
          await call(w.app, 'POST', `/v1/shipments/${s.id}/status`, {
            token: seller.accessToken,
            body: { status: 'delivered' },
          }),
          200,
        )
      if (w.r.chance(0.6))
        ok(await call(w.app, 'POST', `/v1/shipments/${s.id}/received`, { token: buyer.accessToken }), 200)
      return `shipment ${s.id} delivered`
    },
  },
  {
    name: 'hand-over',
    run: async (w) => {
      const s = w.r.pick([...(await openShipments(w)), undefined])
      if (!s) return 'no open shipment'
      const seller = w.sellers.find((x) => x.id === s.seller_id)!
      const code = w.r.chance(0.7) ? s.handover_code : s.handover_code === '000000' ? '000001' : '000000'
      const res = ok(
        await call(w.app, 'POST', `/v1/shipments/${s.id}/handover`, { token: seller.accessToken, body: { code } }),
        200,
        422,
        423,
      )
      return `hand-over of ${s.id}: ${res.statusCode}`
    },
  },
  {
    name: 'open dispute',
    run: async (w) => {
      const s = w.r.pick([...(await openShipments(w)).filter((x) => x.state === 'pending'), undefined])
      if (!s) return 'nothing in escrow'
      const buyer = w.buyers.find((x) => x.id === s.buyer_id)!
      const res = ok(
        await call(w.app, 'POST', `/v1/shipments/${s.id}/disputes`, {
          token: buyer.accessToken,
          body: { reason: w.r.pick(['not_received', 'not_as_described', 'damaged', 'other']), detail: 'property' },
        }),
        201,
        409,
      )
      return `dispute on ${s.id}: ${res.statusCode}`
    },
  },
  {
    name: 'resolve dispute',
    run: async (w) => {
      const open = await w.app.db('disputes').where('status', 'open').select('id')
      const d = w.r.pick([...open, undefined])
      if (!d) return 'no open dispute'
      const outcome = w.r.pick(['release', 'refund', 'split'] as const)
      const res = ok(
        await call(w.app, 'POST', `/v1/admin/disputes/${d.id}/resolve`, {
          token: w.admin.accessToken,
          body: { outcome, note: 'property', ...(outcome === 'split' ? { refundAmount: w.r.int(1, 200_000) } : {}) },
        }),
        200,
        422,
        502,
      )
      return `resolve ${d.id} as ${outcome}: ${res.statusCode}`
    },
  },
  {
    name: 'payout',
    run: async (w) => {
      const seller = w.r.pick(w.sellers)
      const balance = ok(await call(w.app, 'GET', '/v1/me/balance', { token: seller.accessToken }), 200).json
      const amount = balance.available > 200 && w.r.chance(0.5) ? w.r.int(100, balance.available) : undefined
      const res = ok(
        await call(w.app, 'POST', '/v1/payouts', {
          token: seller.accessToken,
          body: amount ? { amount } : {},
          headers: { 'idempotency-key': `p-${w.r.int(0, 1e9)}` },
        }),
        201,
        422,
      )
      return `payout ${amount ?? 'all'} by ${seller.id}: ${res.statusCode}`
    },
  },
  {
    name: 'transfer outcome',
    run: async (w) => {
      const open = [...w.paystack.transfers.values()].filter((x) => x.status === 'pending' || x.status === 'success')
      const tr = w.r.pick([...open, undefined])
      if (!tr) return 'no transfer to settle'
      const outcome = tr.status === 'success' ? 'reversed' : w.r.pick(['success', 'success', 'failed'] as const)
      const hook = w.paystack.settleTransfer(tr.reference, outcome)
      await Promise.all([postWebhook(w.app, hook), w.r.chance(0.3) ? postWebhook(w.app, hook) : undefined])
      return `transfer ${tr.reference} ${outcome}`
    },
  },
  {
    name: 'release sweeper',
    run: async (w) => {
      await w.app
        .db('shipments')
        .where('status', 'delivered')
        .update({ delivered_at: w.app.db.raw("now() - interval '30 days'") })
      const n = await w.app.releaseEscrow()
      return `sweeper released ${n}`
    },
  },
]

/** One random walk of `length` steps; every step is followed by the full check. */
async function walk(t: Test, seed: number, length: number) {
  const { app, paystack } = await commerceApp(t, { PAYOUT_MIN_AMOUNT: 100 })
  const w: World = {
    app,
    paystack,
    sellers: [await aUser(app), await aUser(app), await aUser(app)],
    buyers: [await aUser(app), await aUser(app)],
    admin: await anAdmin(app),
    coupon: (await aCoupon(app, { value: 15 })).code,
    r: rng(seed),
    orders: [],
  }
  for (const [i, seller] of w.sellers.entries())
    ok(
      await call(app, 'PUT', '/v1/me/payout-account', {
        token: seller.accessToken,
        body: { bankCode: '058', accountNumber: `012345678${i}` },
      }),
      200,
    )
  const log: string[] = []
  for (let i = 0; i < length; i++) {
    const step = w.r.pick(steps)
    let said: string
    try {
      said = await step.run(w)
    } catch (err) {
      throw new Error(`seed ${seed}, step ${i} (${step.name}) failed: ${(err as Error).message}\n${log.join('\n')}`, {
        cause: err,
      })
    }
    await app.commerce.idle()
    await app.payouts.idle()
    await app.commerce.idle()
    log.push(`${i} ${step.name}: ${said}`)
    const problems = await reconcile(app, paystack)
    if (problems.length > 0) {
      t.fail(`seed ${seed}, after step ${i} (${step.name}):\n${problems.join('\n')}\nsteps:\n${log.join('\n')}`)
      return
    }
  }
  const mix = new Set(log.map((l) => l.split(':')[0]!.replace(/^\d+ /, '')))
  // What the walk did that moved something (steps that found nothing to do say "no"/"nothing").
  const acted = log.filter((l) => !/: (no|nothing) /.test(l)).map((l) => l.split(':')[0]!.replace(/^\d+ /, ''))
  t.comment(
    `seed ${seed}: ${[...new Set(acted)].map((k) => `${k} ×${acted.filter((a) => a === k).length}`).join(', ')}`,
  )
  t.ok(
    mix.size >= Math.min(steps.length, 6),
    `seed ${seed}: ${length} steps over ${mix.size} kinds, balanced after each`,
  )
}

const fixed = process.env.MONEY_SEED ? [Number(process.env.MONEY_SEED)] : undefined
const seeds = fixed ?? [1, 2, 3].map((i) => (Date.now() + i * 7_919) % 1_000_000)
for (const seed of seeds) void t.test(`random money walk, seed ${seed}`, async (t) => walk(t, seed, 80))
