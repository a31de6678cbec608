import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { Env } from '../../src/config.js'
import type { Publisher } from '../../src/events/index.js'
import { build, call, type TestApp } from '../helpers/app.js'
import { FakePaystack } from '../fakes/paystack.js'
import { reconcile } from '../helpers/reconcile.js'
import type { SignedInUser } from './users.js'

export const ADDRESS = {
  fullName: 'Ada Buyer',
  phone: '+2348012345678',
  line1: '12 Allen Avenue',
  city: 'Ikeja',
  state: 'Lagos',
}

/**
 * An app wired to a fresh fake Paystack on loopback (both closed when the test ends). When
 * the test ends, its money is reconciled with the fake's records (tests/helpers/reconcile.ts):
 * any difference fails the test. `reconcile: false` for a test that leaves a difference on
 * purpose (and says why). `publisher` sees what is published live (the default publishes nothing).
 */
export async function commerceApp(
  t: Test,
  overrides: Partial<Env> = {},
  opts: { reconcile?: boolean; publisher?: Publisher } = {},
): Promise<{ app: TestApp; paystack: FakePaystack }> {
  const paystack = await FakePaystack.start()
  t.teardown(() => paystack.close())
  const app = await build(
    t,
    {
      PAYSTACK_SECRET_KEY: paystack.secretKey,
      PAYSTACK_BASE_URL: paystack.url,
      PAYSTACK_TIMEOUT_MS: 2000,
      ...overrides,
    },
    opts.publisher ? { publisher: opts.publisher } : {},
  )
  // Background webhook work must end before the app (and its pool) closes.
  t.teardown(() => app.commerce.idle())
  if (opts.reconcile !== false)
    // Teardowns run last-registered first, so this one sees the app still open. A teardown
    // that throws fails the test but stops the teardowns after it: close both first.
    t.teardown(async () => {
      await app.commerce.idle()
      const problems = await reconcile(app, paystack)
      if (problems.length === 0) return
      await app.close()
      await paystack.close()
      throw new Error(`reconciliation after the test:\n${problems.join('\n')}`)
    })
  return { app, paystack }
}

export async function aCoupon(
  app: TestApp,
  overrides: Record<string, unknown> = {},
): Promise<{ id: string; code: string }> {
  const [row] = (await app
    .db('coupons')
    .insert({
      code: `C${randomUUID().slice(0, 8).toUpperCase()}`,
      type: 'percent',
      value: 10,
      active: true,
      ...overrides,
    })
    .returning(['id', 'code'])) as { id: string; code: string }[]
  return row!
}

export async function toCart(app: TestApp, user: SignedInUser, listingId: string, quantity = 1) {
  return call(app, 'PUT', `/v1/cart/items/${listingId}`, { token: user.accessToken, body: { quantity } })
}

/**
 * A checkout waiting for payment: the listings go into the buyer's cart (none: the cart as it
 * is), then checkout. Throws unless both answer as they should.
 */
export async function pendingCheckout(
  app: TestApp,
  buyer: SignedInUser,
  listingIds: string | string[],
  body: Record<string, unknown> = {},
): Promise<{ orderId: string; reference: string; total: number }> {
  for (const id of [listingIds].flat()) {
    const put = await toCart(app, buyer, id)
    if (put.statusCode !== 200) throw new Error(`cart: ${put.body}`)
  }
  const res = await checkout(app, buyer, body)
  if (res.statusCode !== 201) throw new Error(`checkout: ${res.body}`)
  return {
    orderId: res.json.order.id as string,
    reference: res.json.payment.reference as string,
    total: res.json.order.total as number,
  }
}

/** Moves an order's checkout window (and its reservations) into the past. */
export async function expireWindow(app: TestApp, orderId: string): Promise<void> {
  const past = app.db.raw("now() - interval '1 second'")
  await app.db('orders').where('id', orderId).update({ expires_at: past })
  await app.db('reservations').where('order_id', orderId).update({ expires_at: past })
}

export async function checkout(
  app: TestApp,
  user: SignedInUser,
  body: Record<string, unknown> = {},
  key: string = randomUUID(),
) {
  return call(app, 'POST', '/v1/checkout', {
    token: user.accessToken,
    body: { address: ADDRESS, ...body },
    headers: { 'idempotency-key': key },
  })
}

/** Cart → checkout → the customer pays at the fake → verify-payment. Returns the paid order. */
export async function paidOrder(
  app: TestApp,
  paystack: FakePaystack,
  buyer: SignedInUser,
  listingIds: string[],
  body: Record<string, unknown> = {},
) {
  for (const id of listingIds) {
    const put = await toCart(app, buyer, id)
    if (put.statusCode !== 200) throw new Error(`cart: ${put.statusCode} ${put.body}`)
  }
  const co = await checkout(app, buyer, body)
  if (co.statusCode !== 201) throw new Error(`checkout: ${co.statusCode} ${co.body}`)
  if (co.json.payment) {
    paystack.pay(co.json.payment.reference)
    const v = await call(app, 'POST', `/v1/orders/${co.json.order.id}/verify-payment`, { token: buyer.accessToken })
    if (v.statusCode !== 200) throw new Error(`verify: ${v.statusCode} ${v.body}`)
    return v.json
  }
  return co.json.order
}

/** Sends a signed webhook payload as Paystack would. */
export async function postWebhook(app: TestApp, hook: { payload: string; headers: Record<string, string> }) {
  return call(app, 'POST', '/v1/webhooks/paystack', { body: hook.payload, headers: hook.headers })
}

export async function available(app: TestApp, listingId: string): Promise<number> {
  const { rows } = (await app.db.raw(
    `select l.quantity - l.sold_quantity - coalesce((select sum(quantity) from reservations r where r.listing_id = l.id and r.released_at is null and r.converted_at is null and r.expires_at > now()), 0) as n
     from listings l where l.id = ?`,
    [listingId],
  )) as { rows: { n: number }[] }
  return Number(rows[0]!.n)
}

/**
 * Many signed-in buyers at once, written straight to the database (registering hundreds
 * through the API would spend the test's time hashing passwords).
 */
export async function manyBuyers(app: TestApp, n: number): Promise<SignedInUser[]> {
  const tag = randomUUID().slice(0, 8)
  const users = (await app
    .db('users')
    .insert(
      Array.from({ length: n }, (_, i) => ({
        email: `buyer-${tag}-${i}@test.oja`,
        password_hash: 'x',
        name: `Buyer ${i}`,
      })),
    )
    .returning(['id', 'email'])) as { id: string; email: string }[]
  const sessions = (await app
    .db('sessions')
    .insert(users.map((u) => ({ user_id: u.id, expires_at: new Date(Date.now() + 86_400_000) })))
    .returning(['id', 'user_id'])) as { id: string; user_id: string }[]
  return users.map((u, i) => ({
    id: u.id,
    email: u.email,
    password: 'x',
    accessToken: app.jwt.sign({ sub: u.id, sid: sessions[i]!.id, role: 'user' }),
    refreshToken: '',
  }))
}

/** Puts lines straight into carts (for races where the cart itself is not under test). */
export async function fillCarts(
  app: TestApp,
  lines: { userId: string; listingId: string; quantity?: number; unitPrice?: number }[],
): Promise<void> {
  if (lines.length === 0) return
  await app.db('cart_items').insert(
    lines.map((l) => ({
      user_id: l.userId,
      listing_id: l.listingId,
      quantity: l.quantity ?? 1,
      unit_price: l.unitPrice ?? 0,
    })),
  )
}

/**
 * Runs every background job once and waits for the work they handed over. (Sweeper.runOnce
 * does nothing on a sweeper that was never started — tests build apps with
 * background:false — so start it around the run.)
 */
export async function sweep(app: TestApp): Promise<Record<string, number>> {
  app.sweeper.start()
  try {
    return await app.sweeper.runOnce()
  } finally {
    await app.sweeper.stop()
    await app.commerce.idle()
  }
}
