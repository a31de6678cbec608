/**
 * Typed notification payloads: every notification type's `data` has its own schema, and the
 * notification is a union discriminated by `type`. What GET /v1/notifications answers, and
 * what `notification:new` carries, validate against it; the OpenAPI document shows it with
 * its discriminator mapping. Notifications come from their real code paths where that is
 * cheap, and from `notify` with the data those paths store for the rest (admin alerts of
 * Paystack trouble, payouts), which `notify`'s typing holds to the same schemas.
 */
import { randomUUID } from 'node:crypto'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import t from 'tap'
import { NOTIFICATION_TYPES, notificationSchemas } from '../src/notifications/index.js'
import { build, call, type Json, type TestApp } from './helpers/app.js'
import { commerceApp, paidOrder } from './factories/commerce.js'
import { aConversation, aMessage, anOffer } from './factories/chat.js'
import { categoryId, aListing } from './factories/listings.js'
import { createListing } from './factories/catalogue.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'

/** The types the contract lists (API.md, Notifications and seller money, and the admin alerts). */
const CONTRACT_TYPES = [
  'message',
  'price_drop',
  'want_match',
  'want_response',
  'offer',
  'order_status',
  'review',
  'listing_removed',
  'funds_released',
  'payout',
  'dispute',
  'payment_unsettled',
  'refund_failed',
  'refund_adjusted',
  'payout_pending',
  'payout_otp',
  'ledger_mismatch',
  'review_flagged',
  'listing_reported',
]

/** Ajv over the schemas the app registers (the discriminator's OpenAPI mapping is left to the document). */
function validator() {
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats.default(ajv)
  for (const schema of notificationSchemas) ajv.addSchema(schema)
  const validate = ajv.getSchema('Notification')!
  return (value: unknown) => (validate(value) ? null : ajv.errorsText(validate.errors))
}

const ok = async (res: Promise<{ statusCode: number; body: string; json: Json }>, status = [200, 201]) => {
  const r = await res
  if (!status.includes(r.statusCode)) throw new Error(`${r.statusCode} ${r.body}`)
  return r.json
}

async function moveTo(app: TestApp, seller: SignedInUser, shipmentId: string, status: string) {
  await ok(call(app, 'POST', `/v1/shipments/${shipmentId}/status`, { token: seller.accessToken, body: { status } }))
}

void t.test('every notification type, as the API and notification:new carry it, fits its schema', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const admin = await anAdmin(app)
  const [seller, buyer, wisher] = await Promise.all([
    aUser(app, { name: 'Sade Seller' }),
    aUser(app, { name: 'Bola Buyer' }),
    aUser(app, { name: 'Wale Wisher' }),
  ])

  // message (the seller has no live connection) and offer.
  const { conversation } = await aConversation(app, { buyer, seller })
  await aMessage(app, buyer, conversation.id, 'Is it still available?')
  const offer = await anOffer(app, buyer, conversation.id, 200_000_00)
  await ok(call(app, 'POST', `/v1/offers/${offer.id}/decline`, { token: seller.accessToken }))

  // price_drop to a wishlister.
  const lamp = await aListing(app.db, seller.id, { title: 'Brass floor lamp', price: 30_000_00 })
  await ok(call(app, 'PUT', `/v1/me/wishlist/${lamp.id}`, { token: wisher.accessToken }), [200, 201, 204])
  await ok(call(app, 'PATCH', `/v1/listings/${lamp.id}`, { token: seller.accessToken, body: { price: 25_000_00 } }))
  await app.priceDrops.drain() // the alert is the worker's, after the PATCH commits

  // want_match (a listing published that matches), want_response (a seller answers it).
  const want = await ok(call(app, 'POST', '/v1/wants', { token: wisher.accessToken, body: { title: 'Office chair' } }))
  const chair = await createListing(app, seller, {
    title: 'Mesh office chair',
    categoryId: await categoryId(app.db, 'office-furniture'),
  })
  await ok(
    call(app, 'POST', `/v1/wants/${want.id}/responses`, {
      token: seller.accessToken,
      body: { listingId: chair.id, message: 'This one?' },
    }),
  )

  // listing_removed by a moderator.
  await ok(
    call(app, 'POST', `/v1/admin/listings/${lamp.id}/remove`, {
      token: admin.accessToken,
      body: { reason: 'Counterfeit goods are prohibited' },
    }),
  )

  // order_status (paid; a shipment moved), funds_released (receipt), review.
  const sofa = await aListing(app.db, seller.id, { title: 'Sofa', price: 75_000_00 })
  const order = await paidOrder(app, paystack, buyer, [sofa.id])
  const shipmentId = order.shipments[0].id as string
  await moveTo(app, seller, shipmentId, 'delivered')
  await ok(call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken }))
  await ok(
    call(app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
      token: buyer.accessToken,
      body: { rating: 5, body: 'As described' },
    }),
  )

  // dispute: opened, a message in its thread, resolved (which releases: funds_released again).
  const table = await aListing(app.db, seller.id, { title: 'Table', price: 40_000_00 })
  const second = await paidOrder(app, paystack, buyer, [table.id])
  const disputed = second.shipments[0].id as string
  const dispute = await ok(
    call(app, 'POST', `/v1/shipments/${disputed}/disputes`, {
      token: buyer.accessToken,
      body: { reason: 'damaged', detail: 'A leg is broken' },
    }),
  )
  await ok(
    call(app, 'POST', `/v1/disputes/${dispute.id}/messages`, {
      token: admin.accessToken,
      body: { body: 'Please send photos' },
    }),
  )
  await ok(
    call(app, 'POST', `/v1/admin/disputes/${dispute.id}/resolve`, {
      token: admin.accessToken,
      body: { outcome: 'release', note: 'The photos show no damage' },
    }),
  )

  // The rest as their code paths store them (src/payouts/transfers.ts, src/payments/*.ts,
  // src/ledger/ledger.plugin.ts): `notify` is typed by the same schemas.
  const ctx = { db: app.db, log: app.log }
  const orderId = order.id as string
  await app.spine.transaction(ctx, async (tx) => {
    const admins = [admin.id]
    const payoutId = randomUUID()
    await app.spine.notify(tx, [seller.id], 'payout', { payoutId, status: 'paid', amount: 7_000_000 })
    await app.spine.notify(tx, admins, 'payout_pending', { payoutId, amount: 7_000_000 })
    await app.spine.notify(tx, admins, 'payout_otp', {
      payoutId,
      amount: 7_000_000,
      message: 'Paystack asks for an OTP to finalize this transfer',
    })
    await app.spine.notify(tx, admins, 'payment_unsettled', {
      unsettledId: randomUUID(),
      reference: 'oja_ref_1',
      orderId: null,
      kind: 'unknown_transaction',
      paystackAmount: 5_000_00,
      ojaAmount: null,
    })
    await app.spine.notify(tx, admins, 'refund_failed', {
      orderId,
      refundId: randomUUID(),
      amount: 1_000_00,
      message: 'Insufficient balance',
    })
    await app.spine.notify(tx, admins, 'refund_adjusted', {
      orderId,
      refundId: randomUUID(),
      previousAmount: 2_000_00,
      amount: 0,
      status: 'cancelled',
      message: 'dashboard refund: nothing was left to refund',
    })
    await app.spine.notify(tx, admins, 'ledger_mismatch', {
      checkId: randomUUID(),
      count: 1,
      first: 'seller x: cached pending differs',
    })
    await app.spine.notify(tx, admins, 'review_flagged', { reviewId: randomUUID(), reason: 'abusive' })
    await app.spine.notify(tx, admins, 'listing_reported', {
      listingId: randomUUID(),
      reportId: randomUUID(),
      reason: 'scam',
    })
  })

  const check = validator()
  const seen = new Set<string>()
  for (const user of [admin, seller, buyer, wisher]) {
    const stored: { id: string; type: string; data: unknown }[] = await app
      .db('notifications')
      .where('user_id', user.id)
      .select('id', 'type', 'data')
    const page = await call(app, 'GET', '/v1/notifications?limit=100', { token: user.accessToken })
    t.equal(page.statusCode, 200)
    t.equal(page.json.items.length, stored.length, 'every notification is listed')
    for (const item of page.json.items as Json[]) {
      seen.add(item.type)
      t.equal(check(item), null, `GET /v1/notifications: ${item.type} fits its schema`)
      t.same(item.data, stored.find((s) => s.id === item.id)?.data, `${item.type}: data as stored, nothing dropped`)
    }
    const events = await call(app, 'GET', '/v1/me/events?limit=1000', { token: user.accessToken })
    const news = (events.json.items as Json[]).filter((e) => e.event === 'notification:new')
    t.equal(news.length, stored.length, 'one notification:new per notification')
    for (const e of news) t.equal(check(e.data), null, `notification:new: ${e.data.type} fits its schema`)
  }
  t.same([...seen].sort(), [...CONTRACT_TYPES].sort(), 'every type was made and checked')

  // The check is not vacuous: a field the schema does not know, or a wrong value, fails it.
  const one = (await call(app, 'GET', '/v1/notifications?limit=1', { token: seller.accessToken })).json.items[0]
  t.not(check({ ...one, data: { ...one.data, extra: 1 } }), null, 'an unknown field fails')
  t.not(check({ ...one, type: 'no_such_type' }), null, 'an unknown type fails')
  t.not(check({ ...one, type: one.type === 'review' ? 'message' : 'review' }), null, 'another type’s data fails')
})

void t.test('the OpenAPI document: the notification is a union discriminated by type', async (t) => {
  const app = await build(t)
  const doc = (await call(app, 'GET', '/docs/json')).json
  const schemas = doc.components.schemas as Record<string, Json>
  const union = schemas.Notification!
  t.same([...NOTIFICATION_TYPES].sort(), [...CONTRACT_TYPES].sort(), 'the schemas cover the contract’s types')
  t.equal(union.discriminator?.propertyName, 'type')
  t.same(Object.keys(union.discriminator.mapping).sort(), [...CONTRACT_TYPES].sort(), 'the mapping names every type')
  t.same(
    (union.oneOf as Json[]).map((s) => s.$ref).sort(),
    Object.values(union.discriminator.mapping as Record<string, string>).sort(),
    'oneOf holds exactly the mapped schemas',
  )
  for (const type of CONTRACT_TYPES) {
    const ref = union.discriminator.mapping[type] as string
    const variant = schemas[ref.replace('#/components/schemas/', '')]
    t.ok(variant, `${type}: ${ref} is in the document`)
    t.same(variant?.properties.type.enum, [type], `${type}: its type is fixed`)
    const dataRef = variant?.properties.data.$ref as string
    const data = schemas[dataRef.replace('#/components/schemas/', '')]
    t.equal(data?.type, 'object', `${type}: its data is the named schema ${dataRef}`)
    t.equal(data?.additionalProperties, false, `${type}: with every field listed`)
  }
  const listRef = doc.paths['/v1/notifications'].get.responses['200'].content['application/json'].schema.$ref as string
  const list = schemas[listRef.replace('#/components/schemas/', '')]
  t.equal(list?.properties.items.items.$ref, '#/components/schemas/Notification', 'GET /v1/notifications answers them')
})
