/**
 * The authorization matrix: every route of the OpenAPI document, called by four callers
 * (anonymous, another user, the owner of the resource, an admin), each against a fresh
 * resource, checked against the expectation declared here. A route without an entry fails.
 */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import sharp from 'sharp'
import webpush from 'web-push'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing, categoryId } from './factories/listings.js'
import { aShipment } from './factories/trust.js'

type Caller = 'anon' | 'other' | 'owner' | 'admin'
/**
 * unauth: 401 · forbidden: 403 · denied: 403 or 404 (the resource is not theirs to see) ·
 * allowed: neither 401, 403 nor 404 (authorization passed and the resource was found).
 */
type Expect = 'unauth' | 'forbidden' | 'denied' | 'allowed'
type Case = {
  params?: Record<string, string>
  body?: unknown
  query?: string
  headers?: Record<string, string>
  multipart?: Buffer
}
type World = { app: OjaApp; owner: SignedInUser; other: SignedInUser; admin: SignedInUser; peer: SignedInUser }
type Entry = { expect: Record<Caller, Expect>; setup?: (w: World, caller: Caller) => Promise<Case> }

const PUBLIC: Record<Caller, Expect> = { anon: 'allowed', other: 'allowed', owner: 'allowed', admin: 'allowed' }
const SIGNED_IN: Record<Caller, Expect> = { anon: 'unauth', other: 'allowed', owner: 'allowed', admin: 'allowed' }
const OWNER_ONLY: Record<Caller, Expect> = { anon: 'unauth', other: 'denied', owner: 'allowed', admin: 'denied' }
const OWNER_OR_ADMIN: Record<Caller, Expect> = { anon: 'unauth', other: 'denied', owner: 'allowed', admin: 'allowed' }
const ADMIN: Record<Caller, Expect> = { anon: 'unauth', other: 'forbidden', owner: 'forbidden', admin: 'allowed' }

const ADDRESS = { fullName: 'Ada O', phone: '+2348012345678', line1: '1 Allen Ave', city: 'Ikeja', state: 'Lagos' }

async function png(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png()
    .toBuffer()
}

function multipart(file: Buffer): { body: Buffer; contentType: string } {
  const boundary = '----ojaauthz'
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.png"\r\nContent-Type: image/png\r\n\r\n`,
  )
  return {
    body: Buffer.concat([head, file, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  }
}

const listing = async (w: World, sellerId = w.owner.id) => (await aListing(w.app.db, sellerId)).id
/** A conversation about the owner's listing, opened by the peer (a buyer). */
async function conversation(w: World) {
  const listingId = await listing(w)
  const res = await call(w.app, 'POST', '/v1/conversations', {
    token: w.peer.accessToken,
    body: { listingId, message: 'Is it available?' },
  })
  return {
    conversationId: res.json.id as string,
    listingId,
    firstMessageId: res.json.lastMessage?.id as string | undefined,
  }
}
/** A conversation in which the owner is the buyer (so the owner can send offers). */
async function buyerConversation(w: World) {
  const listingId = await listing(w, w.peer.id)
  const res = await call(w.app, 'POST', '/v1/conversations', { token: w.owner.accessToken, body: { listingId } })
  return { conversationId: res.json.id as string, listingId }
}
/** A pending offer made by the peer on the owner's listing: the owner (seller) answers it. */
async function offerToOwner(w: World) {
  const { conversationId } = await conversation(w)
  const res = await call(w.app, 'POST', `/v1/conversations/${conversationId}/offers`, {
    token: w.peer.accessToken,
    body: { amount: 100_000_00 },
  })
  return res.json.id as string
}
/** A pending offer made by the owner (as buyer): the owner may withdraw it. */
async function offerByOwner(w: World) {
  const { conversationId } = await buyerConversation(w)
  const res = await call(w.app, 'POST', `/v1/conversations/${conversationId}/offers`, {
    token: w.owner.accessToken,
    body: { amount: 100_000_00 },
  })
  return res.json.id as string
}
const address = async (w: World) =>
  (await call(w.app, 'POST', '/v1/me/addresses', { token: w.owner.accessToken, body: ADDRESS })).json.id as string
const want = async (w: World) =>
  (
    await call(w.app, 'POST', '/v1/wants', {
      token: w.owner.accessToken,
      body: { title: 'Baby cot', maxPrice: 5_000_000 },
    })
  ).json.id as string
const coupon = async (w: World) =>
  (
    await call(w.app, 'POST', '/v1/admin/coupons', {
      token: w.admin.accessToken,
      body: { code: `C${Math.random().toString(36).slice(2, 8).toUpperCase()}`, type: 'percent', value: 10 },
    })
  ).json.id as string
const review = async (w: World) => {
  const { shipmentId } = await aShipment(w.app.db, w.peer.id, w.owner.id)
  return (
    await call(w.app, 'POST', `/v1/shipments/${shipmentId}/reviews`, {
      token: w.peer.accessToken,
      body: { rating: 4, body: 'Good' },
    })
  ).json.id as string
}
/** The caller's payout account (the built-in Paystack simulator resolves any 10 digits at a listed bank). */
const payoutAccount = async (w: World, caller: Caller) => {
  if (caller === 'anon') return {}
  await call(w.app, 'PUT', '/v1/me/payout-account', {
    token: w[caller].accessToken,
    body: { bankCode: '058', accountNumber: '0123456789' },
  })
  return {}
}
/** A failed payout of the owner's, written straight to the database (no money moves). */
const payout = async (w: World) => {
  const id = randomUUID()
  await w.app.db('payouts').insert({
    id,
    seller_id: w.owner.id,
    amount: 100_000,
    status: 'failed',
    reference: `oja-po-${id.replace(/-/g, '')}`,
    recipient_code: 'RCP_authz',
    bank_name: 'Test Bank',
    account_number_last4: '6789',
    failure_reason: 'test',
  })
  return id
}
const image = async (w: World, listingId: string) => {
  const { body, contentType } = multipart(await png())
  const res = await w.app.inject({
    method: 'POST',
    url: `/v1/listings/${listingId}/images`,
    headers: { authorization: `Bearer ${w.owner.accessToken}`, 'content-type': contentType },
    payload: body,
  })
  return (res.json() as Json).id as string
}

/** A shipment the owner bought from the peer, sent, its money in escrow (as a paid order's would be). */
async function heldShipment(w: World): Promise<string> {
  const { orderId, shipmentId } = await aShipment(w.app.db, w.owner.id, w.peer.id, { status: 'sent' })
  await w.app.db('shipment_money').insert({
    shipment_id: shipmentId,
    order_id: orderId,
    seller_id: w.peer.id,
    gross: 10_000_00,
    fee: 50_000,
    vat: 3_750,
    share: 946_250,
    handover_code: '123456',
  })
  return shipmentId
}
/** An open dispute of the owner (the buyer) with the peer (the seller). */
async function dispute(w: World): Promise<string> {
  const res = await call(w.app, 'POST', `/v1/shipments/${await heldShipment(w)}/disputes`, {
    token: w.owner.accessToken,
    body: { reason: 'not_received', detail: 'Nothing came' },
  })
  return res.json.id as string
}

const MATRIX: Record<string, Entry> = {
  'GET /health': { expect: PUBLIC },
  'GET /ready': { expect: PUBLIC },
  'POST /v1/auth/register': {
    expect: PUBLIC,
    setup: async () => ({
      body: { email: `m${Math.random().toString(36).slice(2)}@t.oja`, password: 'long enough pw', name: 'M' },
    }),
  },
  'POST /v1/auth/login': {
    expect: { anon: 'unauth', other: 'unauth', owner: 'unauth', admin: 'unauth' },
    setup: async () => ({ body: { email: 'nobody@t.oja', password: 'wrong password' } }),
  },
  'POST /v1/auth/refresh': {
    expect: { anon: 'unauth', other: 'unauth', owner: 'unauth', admin: 'unauth' },
    setup: async () => ({ body: { refreshToken: 'x'.repeat(43) } }),
  },
  'POST /v1/auth/logout': {
    expect: { anon: 'unauth', other: 'unauth', owner: 'unauth', admin: 'unauth' },
    setup: async () => ({ body: { refreshToken: 'x'.repeat(43) } }),
  },
  'POST /v1/auth/verify-email': { expect: PUBLIC, setup: async () => ({ body: { token: 'x'.repeat(43) } }) },
  'POST /v1/auth/resend-verification': { expect: SIGNED_IN },
  'POST /v1/auth/forgot-password': { expect: PUBLIC, setup: async () => ({ body: { email: 'nobody@t.oja' } }) },
  'POST /v1/auth/reset-password': {
    expect: PUBLIC,
    setup: async () => ({ body: { token: 'x'.repeat(43), password: 'long enough pw' } }),
  },
  // The pages of the mailed links (HTML): public, the token is the credential.
  'GET /verify-email': { expect: PUBLIC, setup: async () => ({ query: `token=${'x'.repeat(43)}` }) },
  'GET /reset-password': { expect: PUBLIC, setup: async () => ({ query: `token=${'x'.repeat(43)}` }) },
  'POST /reset-password': {
    expect: PUBLIC,
    setup: async () => ({ body: { token: 'x'.repeat(43), password: 'long enough pw' } }),
  },
  'GET /v1/me': { expect: SIGNED_IN },
  'PATCH /v1/me': { expect: SIGNED_IN, setup: async () => ({ body: { bio: 'hello' } }) },
  'PUT /v1/me/avatar': { expect: SIGNED_IN, setup: async () => ({ multipart: await png() }) },
  'GET /v1/users/{id}': { expect: PUBLIC, setup: async (w) => ({ params: { id: w.owner.id } }) },
  'GET /v1/me/addresses': { expect: SIGNED_IN },
  // Account lifecycle: the same password again (nothing changes); a new address (only mailed).
  'POST /v1/me/password': {
    expect: SIGNED_IN,
    setup: async (w, caller) => {
      const password = caller === 'anon' ? 'long enough pw' : w[caller].password
      return { body: { currentPassword: password, newPassword: password } }
    },
  },
  'POST /v1/me/email': {
    expect: SIGNED_IN,
    setup: async (w, caller) => ({
      body: { newEmail: `moved-${randomUUID()}@t.oja`, password: caller === 'anon' ? 'x' : w[caller].password },
    }),
  },
  'GET /v1/me/sessions': { expect: SIGNED_IN },
  'DELETE /v1/me/sessions/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const res = await call(w.app, 'POST', '/v1/auth/login', {
        body: { email: w.owner.email, password: w.owner.password },
      })
      const sessions = await call(w.app, 'GET', '/v1/me/sessions', { token: res.json.accessToken })
      return { params: { id: sessions.json.items.find((s: Json) => s.current).id } }
    },
  },
  'GET /v1/me/export': { expect: SIGNED_IN },
  // Erasure ends the account: each signed-in caller erases a fresh account of its kind.
  'DELETE /v1/me': {
    expect: SIGNED_IN,
    setup: async (w, caller) => {
      if (caller === 'anon') return { body: { password: 'long enough pw' } }
      const fresh = caller === 'admin' ? await anAdmin(w.app) : await aUser(w.app)
      return { body: { password: fresh.password }, headers: { authorization: `Bearer ${fresh.accessToken}` } }
    },
  },
  'POST /v1/me/addresses': { expect: SIGNED_IN, setup: async () => ({ body: ADDRESS }) },
  'PATCH /v1/me/addresses/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await address(w) }, body: { city: 'Yaba' } }),
  },
  'DELETE /v1/me/addresses/{id}': { expect: OWNER_ONLY, setup: async (w) => ({ params: { id: await address(w) } }) },
  'GET /v1/me/blocks': { expect: SIGNED_IN },
  'PUT /v1/me/blocks/{userId}': { expect: SIGNED_IN, setup: async (w) => ({ params: { userId: w.peer.id } }) },
  'DELETE /v1/me/blocks/{userId}': { expect: SIGNED_IN, setup: async (w) => ({ params: { userId: w.peer.id } }) },
  'POST /v1/me/devices': {
    expect: SIGNED_IN,
    setup: async () => ({ body: { platform: 'fcm', token: `fcm-${randomUUID()}` } }),
  },
  'GET /v1/me/devices': { expect: SIGNED_IN },
  'DELETE /v1/me/devices/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const res = await call(w.app, 'POST', '/v1/me/devices', {
        token: w.owner.accessToken,
        body: { platform: 'fcm', token: `fcm-${randomUUID()}` },
      })
      return { params: { id: res.json.id } }
    },
  },
  'GET /v1/push/vapid-public-key': { expect: PUBLIC },
  'GET /v1/me/notification-preferences': { expect: SIGNED_IN },
  'PATCH /v1/me/notification-preferences': { expect: SIGNED_IN, setup: async () => ({ body: { unreadDigest: true } }) },
  'GET /v1/me/unread': { expect: SIGNED_IN },
  'GET /v1/notifications': { expect: SIGNED_IN },
  'POST /v1/notifications/read': { expect: SIGNED_IN, setup: async () => ({ body: { all: true } }) },
  'GET /v1/me/events': { expect: SIGNED_IN },
  'GET /v1/me/balance': { expect: SIGNED_IN },
  // A signed link from a mail: no sign-in; a bad token is 400 DIGEST_LINK_INVALID.
  'GET /v1/digest/unsubscribe': { expect: PUBLIC, setup: async () => ({ query: 'token=not-a-token' }) },
  'GET /v1/me/ledger': { expect: SIGNED_IN },
  'GET /v1/banks': { expect: SIGNED_IN },
  'GET /v1/me/payout-account': { expect: SIGNED_IN, setup: payoutAccount },
  'PUT /v1/me/payout-account': {
    expect: SIGNED_IN,
    setup: async () => ({ body: { bankCode: '058', accountNumber: '0123456789' } }),
  },
  'DELETE /v1/me/payout-account': { expect: SIGNED_IN, setup: payoutAccount },
  'POST /v1/payouts': {
    expect: SIGNED_IN,
    setup: async () => ({ body: { amount: 100_000 }, headers: { 'idempotency-key': randomUUID() } }),
  },
  'GET /v1/payouts': { expect: SIGNED_IN },
  'GET /v1/payouts/{id}': { expect: OWNER_OR_ADMIN, setup: async (w) => ({ params: { id: await payout(w) } }) },
  'GET /v1/categories': { expect: PUBLIC },

  'POST /v1/listings': {
    expect: SIGNED_IN,
    setup: async (w) => ({
      body: {
        title: 'Desk lamp',
        description: 'Works',
        type: 'sale',
        price: 500_000,
        condition: 'good',
        categoryId: await categoryId(w.app.db),
      },
    }),
  },
  'GET /v1/listings': { expect: PUBLIC },
  'GET /v1/listings/{id}': { expect: PUBLIC, setup: async (w) => ({ params: { id: await listing(w) } }) },
  'PATCH /v1/listings/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await listing(w) }, body: { title: 'New title' } }),
  },
  'DELETE /v1/listings/{id}': { expect: OWNER_OR_ADMIN, setup: async (w) => ({ params: { id: await listing(w) } }) },
  'GET /v1/me/listings': { expect: SIGNED_IN },
  'POST /v1/listings/{id}/reports': {
    expect: { anon: 'unauth', other: 'allowed', owner: 'allowed', admin: 'allowed' },
    setup: async (w) => ({ params: { id: await listing(w, w.peer.id) }, body: { reason: 'scam' } }),
  },
  'POST /v1/listings/{id}/images': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await listing(w) }, multipart: await png() }),
  },
  'DELETE /v1/listings/{id}/images/{imageId}': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const id = await listing(w)
      return { params: { id, imageId: await image(w, id) } }
    },
  },
  'PUT /v1/listings/{id}/images/order': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const id = await listing(w)
      return { params: { id }, body: { imageIds: [await image(w, id)] } }
    },
  },
  'GET /v1/listings/{id}/reviews': { expect: PUBLIC, setup: async (w) => ({ params: { id: await listing(w) } }) },

  'POST /v1/wants': { expect: SIGNED_IN, setup: async () => ({ body: { title: 'Standing fan' } }) },
  'GET /v1/wants': { expect: PUBLIC },
  'GET /v1/wants/{id}': { expect: PUBLIC, setup: async (w) => ({ params: { id: await want(w) } }) },
  'PATCH /v1/wants/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await want(w) }, body: { status: 'closed' } }),
  },
  'DELETE /v1/wants/{id}': { expect: OWNER_OR_ADMIN, setup: async (w) => ({ params: { id: await want(w) } }) },
  // A seller answers someone else's want with their own listing: the want's owner cannot respond to it.
  'POST /v1/wants/{id}/responses': {
    expect: { anon: 'unauth', other: 'denied', owner: 'allowed', admin: 'denied' },
    setup: async (w) => {
      const wantId = (
        await call(w.app, 'POST', '/v1/wants', { token: w.peer.accessToken, body: { title: 'Baby cot' } })
      ).json.id as string
      return { params: { id: wantId }, body: { listingId: await listing(w) } }
    },
  },
  'GET /v1/me/wishlist': { expect: SIGNED_IN },
  'PUT /v1/me/wishlist/{listingId}': {
    expect: SIGNED_IN,
    setup: async (w) => ({ params: { listingId: await listing(w, w.peer.id) } }),
  },
  'DELETE /v1/me/wishlist/{listingId}': {
    expect: SIGNED_IN,
    setup: async (w) => ({ params: { listingId: await listing(w, w.peer.id) } }),
  },

  'GET /v1/cart': { expect: SIGNED_IN },
  'DELETE /v1/cart': { expect: SIGNED_IN },
  'PUT /v1/cart/items/{listingId}': {
    expect: SIGNED_IN,
    setup: async (w) => ({ params: { listingId: await listing(w, w.peer.id) }, body: { quantity: 1 } }),
  },
  'DELETE /v1/cart/items/{listingId}': {
    expect: SIGNED_IN,
    setup: async (w, caller) => {
      const listingId = await listing(w, w.peer.id)
      if (caller !== 'anon')
        await call(w.app, 'PUT', `/v1/cart/items/${listingId}`, { token: w[caller].accessToken, body: { quantity: 1 } })
      return { params: { listingId } }
    },
  },
  'PUT /v1/cart/coupon': {
    expect: SIGNED_IN,
    setup: async (w, caller) => {
      const code = `Q${Math.random().toString(36).slice(2, 8).toUpperCase()}`
      await call(w.app, 'POST', '/v1/admin/coupons', {
        token: w.admin.accessToken,
        body: { code, type: 'percent', value: 10 },
      })
      if (caller !== 'anon')
        await call(w.app, 'PUT', `/v1/cart/items/${await listing(w, w.peer.id)}`, {
          token: w[caller].accessToken,
          body: { quantity: 1 },
        })
      return { body: { code } }
    },
  },
  'DELETE /v1/cart/coupon': { expect: SIGNED_IN },
  'GET /v1/admin/coupons': { expect: ADMIN },
  'POST /v1/admin/coupons': {
    expect: ADMIN,
    setup: async () => ({
      body: { code: `N${Math.random().toString(36).slice(2, 8).toUpperCase()}`, type: 'flat', value: 1000 },
    }),
  },
  'GET /v1/admin/coupons/{id}': { expect: ADMIN, setup: async (w) => ({ params: { id: await coupon(w) } }) },
  'PATCH /v1/admin/coupons/{id}': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: await coupon(w) }, body: { active: false } }),
  },
  'POST /v1/checkout': {
    expect: SIGNED_IN,
    setup: async () => ({ body: { address: ADDRESS }, headers: { 'idempotency-key': `k-${Math.random()}` } }),
  },
  'GET /v1/orders': { expect: SIGNED_IN },
  'GET /v1/orders/{id}': {
    expect: OWNER_OR_ADMIN,
    setup: async (w) => ({ params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id)).orderId } }),
  },
  'POST /v1/orders/{id}/verify-payment': {
    expect: OWNER_OR_ADMIN,
    setup: async (w) => ({ params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id)).orderId } }),
  },
  'POST /v1/orders/{id}/cancel': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id, { status: 'sent' })).orderId },
    }),
  },
  'GET /v1/sales': { expect: SIGNED_IN },
  'POST /v1/shipments/{id}/status': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.peer.id, w.owner.id, { status: 'pending' })).shipmentId },
      body: { status: 'sent', trackingNumber: 'T1' },
    }),
  },
  'POST /v1/shipments/{id}/received': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id, { status: 'delivered' })).shipmentId },
    }),
  },
  'POST /v1/shipments/{id}/handover': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.peer.id, w.owner.id, { status: 'delivered' })).shipmentId },
      body: { code: '123456' },
    }),
  },
  'POST /v1/shipments/{id}/reviews': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id)).shipmentId },
      body: { rating: 5, body: 'Great' },
    }),
  },
  'POST /v1/shipments/{id}/disputes': {
    expect: OWNER_ONLY,
    setup: async (w) => ({
      params: { id: await heldShipment(w) },
      body: { reason: 'damaged', detail: 'Broken on arrival' },
    }),
  },
  'GET /v1/disputes': { expect: SIGNED_IN },
  'GET /v1/disputes/{id}': {
    expect: OWNER_OR_ADMIN,
    setup: async (w) => ({ params: { id: await dispute(w) } }),
  },
  'POST /v1/disputes/{id}/messages': {
    expect: OWNER_OR_ADMIN,
    setup: async (w) => ({ params: { id: await dispute(w) }, body: { body: 'Any news?' } }),
  },
  'GET /v1/admin/disputes': { expect: ADMIN },
  'POST /v1/admin/disputes/{id}/resolve': {
    expect: ADMIN,
    setup: async (w) => ({
      params: { id: await dispute(w) },
      body: { outcome: 'release', note: 'Delivered after all' },
    }),
  },
  'POST /v1/admin/orders/{id}/refund': {
    expect: ADMIN,
    setup: async (w) => ({
      params: { id: (await aShipment(w.app.db, w.owner.id, w.peer.id)).orderId },
      body: { reason: 'damaged' },
      headers: { 'idempotency-key': `r-${Math.random()}` },
    }),
  },
  // Paystack calls these: no user auth; the webhook needs a valid signature instead.
  'POST /v1/webhooks/paystack': {
    expect: { anon: 'unauth', other: 'unauth', owner: 'unauth', admin: 'unauth' },
    setup: async () => ({ body: { event: 'charge.success', data: { reference: 'x' } } }),
  },
  'GET /v1/payments/paystack/callback': {
    expect: PUBLIC,
    setup: async () => ({ query: 'reference=nope&trxref=nope' }),
  },

  'POST /v1/conversations': {
    expect: SIGNED_IN,
    setup: async (w) => ({ body: { listingId: await listing(w, w.peer.id) } }),
  },
  'GET /v1/conversations': { expect: SIGNED_IN },
  'GET /v1/conversations/{id}': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId } }),
  },
  'GET /v1/conversations/{id}/messages': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId } }),
  },
  'POST /v1/conversations/{id}/messages': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId }, body: { body: 'Yes it is' } }),
  },
  'POST /v1/conversations/{id}/images': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId }, multipart: await png() }),
  },
  'GET /v1/conversations/{id}/images/{imageId}/{variant}': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const { conversationId } = await conversation(w)
      const { body, contentType } = multipart(await png())
      const res = await w.app.inject({
        method: 'POST',
        url: `/v1/conversations/${conversationId}/images`,
        headers: { authorization: `Bearer ${w.peer.accessToken}`, 'content-type': contentType },
        payload: body,
      })
      return { params: { id: conversationId, imageId: res.json().image.id as string, variant: 'thumb' } }
    },
  },
  'POST /v1/conversations/{id}/read': {
    expect: OWNER_ONLY,
    setup: async (w) => {
      const { conversationId } = await conversation(w)
      const messages = await call(w.app, 'GET', `/v1/conversations/${conversationId}/messages`, {
        token: w.peer.accessToken,
      })
      return { params: { id: conversationId }, body: { upToMessageId: messages.json.items[0].id } }
    },
  },
  'PUT /v1/conversations/{id}/mute': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId } }),
  },
  'DELETE /v1/conversations/{id}/mute': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await conversation(w)).conversationId } }),
  },
  'POST /v1/conversations/{id}/offers': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: (await buyerConversation(w)).conversationId }, body: { amount: 90_000_00 } }),
  },
  'GET /v1/offers/{id}': { expect: OWNER_ONLY, setup: async (w) => ({ params: { id: await offerToOwner(w) } }) },
  'POST /v1/offers/{id}/accept': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await offerToOwner(w) } }),
  },
  'POST /v1/offers/{id}/decline': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await offerToOwner(w) } }),
  },
  'POST /v1/offers/{id}/counter': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await offerToOwner(w) }, body: { amount: 120_000_00 } }),
  },
  'POST /v1/offers/{id}/withdraw': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await offerByOwner(w) } }),
  },

  'GET /v1/users/{id}/reviews': { expect: PUBLIC, setup: async (w) => ({ params: { id: w.owner.id } }) },
  'POST /v1/reviews/{id}/reply': {
    expect: OWNER_ONLY,
    setup: async (w) => ({ params: { id: await review(w) }, body: { body: 'Thanks' } }),
  },
  'POST /v1/reviews/{id}/flags': {
    expect: SIGNED_IN,
    setup: async (w) => ({ params: { id: await review(w) }, body: { reason: 'rude' } }),
  },
  'GET /v1/admin/reviews': { expect: ADMIN },
  'POST /v1/admin/reviews/{id}/moderate': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: await review(w) }, body: { action: 'hide', note: 'abuse' } }),
  },
  'GET /v1/admin/reports': { expect: ADMIN },
  'POST /v1/admin/reports/{id}/dismiss': {
    expect: ADMIN,
    setup: async (w) => {
      const listingId = await listing(w, w.peer.id)
      await call(w.app, 'POST', `/v1/listings/${listingId}/reports`, {
        token: w.owner.accessToken,
        body: { reason: 'scam' },
      })
      const report = await w.app.db('listing_reports').where('listing_id', listingId).first('id')
      return { params: { id: report!.id }, body: { note: 'looks fine' } }
    },
  },
  'POST /v1/admin/listings/{id}/remove': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: await listing(w) }, body: { reason: 'prohibited item' } }),
  },
  'GET /v1/admin/users': { expect: ADMIN },
  'GET /v1/admin/users/{id}': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: w.owner.id } }),
  },
  'GET /v1/admin/orders': { expect: ADMIN },
  'POST /v1/admin/users/{id}/ban': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: (await aUser(w.app)).id }, body: { reason: 'spam' } }),
  },
  'POST /v1/admin/users/{id}/unban': {
    expect: ADMIN,
    setup: async (w) => {
      const u = await aUser(w.app)
      await w.app.db('users').where('id', u.id).update({ banned_at: new Date() })
      return { params: { id: u.id } }
    },
  },
  'GET /v1/admin/audit-log': { expect: ADMIN },
  'GET /v1/admin/payments/unsettled': { expect: ADMIN },
  'GET /v1/admin/ledger/check': { expect: ADMIN },
  'GET /v1/admin/payouts': { expect: ADMIN },
  'POST /v1/admin/payouts/{id}/retry': { expect: ADMIN, setup: async (w) => ({ params: { id: await payout(w) } }) },
  'GET /v1/admin/stats': { expect: ADMIN },
  'GET /v1/admin/categories': { expect: ADMIN },
  'POST /v1/admin/categories': {
    expect: ADMIN,
    setup: async () => ({ body: { name: 'New', slug: `new-${Math.random().toString(36).slice(2, 8)}` } }),
  },
  'PATCH /v1/admin/categories/{id}': {
    expect: ADMIN,
    setup: async (w) => ({ params: { id: await categoryId(w.app.db, 'other') }, body: { position: 99 } }),
  },
  'DELETE /v1/admin/categories/{id}': {
    expect: ADMIN,
    setup: async (w) => {
      const res = await call(w.app, 'POST', '/v1/admin/categories', {
        token: w.admin.accessToken,
        body: { name: 'Tmp', slug: `tmp-${Math.random().toString(36).slice(2, 8)}` },
      })
      return { params: { id: res.json.id } }
    },
  },
}

function verdict(expect: Expect, status: number): boolean {
  switch (expect) {
    case 'unauth':
      return status === 401
    case 'forbidden':
      return status === 403
    case 'denied':
      return status === 403 || status === 404
    case 'allowed':
      return status !== 401 && status !== 403 && status !== 404 && status < 500
  }
}

void t.test('authorization matrix over every route', async (t) => {
  // Real VAPID keys, so that the public key route answers (without keys it is 404 WEB_PUSH_NOT_CONFIGURED).
  const vapid = webpush.generateVAPIDKeys()
  const app = await build(t, {
    DATABASE_POOL_MAX: 10,
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:ops@oja.test',
  })
  const world: World = {
    app,
    owner: await aUser(app, { name: 'Owner' }),
    other: await aUser(app, { name: 'Other' }),
    admin: await anAdmin(app),
    peer: await aUser(app, { name: 'Peer' }),
  }
  const doc = (await call(app, 'GET', '/docs/json')).json
  const routes: string[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    if (path.startsWith('/docs')) continue
    for (const method of Object.keys(item)) if (method !== 'head') routes.push(`${method.toUpperCase()} ${path}`)
  }
  const missing = routes.filter((r) => !MATRIX[r])
  t.same(missing, [], 'every route has a declared expectation')
  const stale = Object.keys(MATRIX).filter((r) => !routes.includes(r))
  t.same(stale, [], 'every declared route exists')

  const failures: string[] = []
  for (const route of routes.filter((r) => MATRIX[r])) {
    const entry = MATRIX[route]!
    const [method, template] = route.split(' ') as [string, string]
    for (const caller of ['anon', 'other', 'admin', 'owner'] as Caller[]) {
      const c: Case = entry.setup ? await entry.setup(world, caller) : {}
      const url =
        template.replace(
          /\{(\w+)\}/g,
          (_, name: string) => c.params?.[name] ?? '00000000-0000-4000-8000-000000000000',
        ) + (c.query ? `?${c.query}` : '')
      const token = caller === 'anon' ? undefined : world[caller].accessToken
      let status: number
      let body: string
      if (c.multipart) {
        const { body: payload, contentType } = multipart(c.multipart)
        const res = await app.inject({
          method: method as 'POST',
          url,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': contentType },
          payload,
        })
        status = res.statusCode
        body = res.body
      } else {
        const res = await call(app, method as 'GET', url, { token, body: c.body, headers: c.headers })
        status = res.statusCode
        body = res.body
      }
      if (!verdict(entry.expect[caller], status))
        failures.push(`${route} as ${caller}: expected ${entry.expect[caller]}, got ${status} ${body.slice(0, 160)}`)
    }
  }
  t.same(failures, [], 'every caller gets the declared answer')
})
