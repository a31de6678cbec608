/**
 * Push: devices (registration, ownership, the end of their sessions), notification
 * preferences, mutes, unread counts and `unread:updated`, and delivery through the outbox
 * with a recording sender: one push per device per event for a user away, none for a user
 * online on any node, collapse keys and badges, gone tokens, retries, mutes, switched-off
 * types, quiet hours, and two workers never sending one push twice.
 */
import t, { type Test } from 'tap'
import webpush from 'web-push'
import { randomBytes } from 'node:crypto'
import type { OjaApp } from '../src/app.js'
import type { PushDevice, PushMessage, PushPlatform, PushResult, PushSender } from '../src/push/index.js'
import { build, call, type Json, type LooseDb, type TestApp } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aShipment } from './factories/trust.js'
import { aConversation, aMessage, anOffer } from './factories/chat.js'
import { commerceApp, paidOrder } from './factories/commerce.js'
import { connect, startNodes } from './helpers/nodes.js'

type Push = { platform: PushPlatform; device: PushDevice; message: PushMessage }

/** A sender per platform that records every push and answers what the test says (default: sent). */
class RecordingPush {
  readonly calls: Push[] = []
  answer: (push: Push, nth: number) => PushResult | Promise<PushResult> = () => ({ outcome: 'sent' })

  senders(): Record<PushPlatform, PushSender> {
    const sender = (platform: PushPlatform): PushSender => ({
      platform,
      send: async (device, message) => {
        const push = { platform, device, message }
        this.calls.push(push)
        return this.answer(push, this.calls.filter((c) => c.device.id === device.id).length)
      },
    })
    return { webpush: sender('webpush'), fcm: sender('fcm'), expo: sender('expo') }
  }

  to(deviceId: string): Push[] {
    return this.calls.filter((c) => c.device.id === deviceId)
  }
}

/** An app whose pushes go to a recording sender. */
async function pushApp(t: Test, app?: OjaApp): Promise<{ app: TestApp; push: RecordingPush }> {
  const built = (app ?? (await build(t))) as TestApp
  const push = new RecordingPush()
  built.push.useSenders(push.senders())
  return { app: built, push }
}

/** Runs the worker until nothing is due. */
async function deliver(app: OjaApp): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await app.push.deliverDue()).claimed === 0) return
  throw new Error('the push outbox did not drain')
}

const fcmToken = () => `fcm-${randomBytes(12).toString('hex')}`
const subscription = (endpoint = `https://push.example.test/${randomBytes(8).toString('hex')}`) => ({
  endpoint,
  keys: {
    // A P-256 public key is 65 bytes (uncompressed point), the auth secret 16.
    p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString('base64url'),
    auth: randomBytes(16).toString('base64url'),
  },
})

async function register(app: OjaApp, user: SignedInUser, body: Json = { platform: 'fcm', token: fcmToken() }) {
  const res = await call(app, 'POST', '/v1/me/devices', { token: user.accessToken, body })
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`)
  return res.json.id as string
}

async function login(app: OjaApp, user: SignedInUser): Promise<SignedInUser> {
  const res = await call(app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
  return { ...user, accessToken: res.json.accessToken, refreshToken: res.json.refreshToken }
}

const outboxOf = (app: { db: LooseDb }, userId: string) =>
  app.db('push_outbox').where('user_id', userId).orderBy('created_at').select('*')

void t.test('devices: register, the same token again, list, delete, ownership, validation', async (t) => {
  const { app } = await pushApp(t)
  const ada = await aUser(app, { name: 'Ada' })
  const bola = await aUser(app, { name: 'Bola' })
  const token = fcmToken()

  const first = await call(app, 'POST', '/v1/me/devices', {
    token: ada.accessToken,
    body: { platform: 'fcm', token, locale: 'en-NG' },
  })
  t.equal(first.statusCode, 201)
  t.match(first.json, { id: String, platform: 'fcm', createdAt: String })
  t.equal(first.headers.location, `/v1/me/devices/${first.json.id}`)
  const again = await call(app, 'POST', '/v1/me/devices', { token: ada.accessToken, body: { platform: 'fcm', token } })
  t.equal(again.statusCode, 201, 'the same token again: 201')
  t.equal(again.json.id, first.json.id, 'the same device')

  const web = await call(app, 'POST', '/v1/me/devices', {
    token: ada.accessToken,
    body: { platform: 'webpush', subscription: { ...subscription(), expirationTime: null } },
  })
  t.equal(web.statusCode, 201, 'a browser subscription as toJSON() gives it')
  const expo = await call(app, 'POST', '/v1/me/devices', {
    token: ada.accessToken,
    body: { platform: 'expo', token: 'ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]' },
  })
  t.equal(expo.statusCode, 201)

  const list = await call(app, 'GET', '/v1/me/devices', { token: ada.accessToken })
  t.equal(list.statusCode, 200)
  t.same(list.json.items.map((d: Json) => d.id).sort(), [first.json.id, web.json.id, expo.json.id].sort())
  t.match(
    list.json.items.find((d: Json) => d.id === first.json.id),
    { platform: 'fcm', current: true, locale: 'en-NG' },
  )
  t.notOk('lastPushAt' in list.json.items[0], 'no push yet: no lastPushAt')

  t.equal(
    (await call(app, 'DELETE', `/v1/me/devices/${expo.json.id}`, { token: bola.accessToken })).statusCode,
    404,
    "another user's device: 404",
  )
  t.equal((await call(app, 'DELETE', `/v1/me/devices/${expo.json.id}`, { token: ada.accessToken })).statusCode, 204)
  t.equal((await call(app, 'DELETE', `/v1/me/devices/${expo.json.id}`, { token: ada.accessToken })).statusCode, 404)

  // The same token registered by another user (a phone changing hands) moves to them.
  const moved = await call(app, 'POST', '/v1/me/devices', { token: bola.accessToken, body: { platform: 'fcm', token } })
  t.equal(moved.statusCode, 201)
  t.equal(moved.json.id, first.json.id, 'same id, moved')
  t.notOk(
    (await call(app, 'GET', '/v1/me/devices', { token: ada.accessToken })).json.items.some(
      (d: Json) => d.id === first.json.id,
    ),
    'no longer Ada’s',
  )

  const bad: [string, Json][] = [
    ['web push without a subscription', { platform: 'webpush' }],
    ['web push with a token', { platform: 'webpush', token: 'x', subscription: subscription() }],
    ['an endpoint that is not http(s)', { platform: 'webpush', subscription: subscription('ftp://push.test/x') }],
    ['an endpoint that is not a URL', { platform: 'webpush', subscription: subscription('not a url') }],
    [
      'keys not base64url',
      { platform: 'webpush', subscription: { endpoint: 'https://p.test/1', keys: { p256dh: 'a+b/c', auth: 'x' } } },
    ],
    [
      'a short p256dh',
      {
        platform: 'webpush',
        subscription: {
          endpoint: 'https://p.test/1',
          keys: { p256dh: 'AAAA', auth: randomBytes(16).toString('base64url') },
        },
      },
    ],
    ['fcm without a token', { platform: 'fcm' }],
    ['fcm with a subscription', { platform: 'fcm', token: 'x', subscription: subscription() }],
    ['an expo token of another form', { platform: 'expo', token: 'abc123' }],
    ['an unknown platform', { platform: 'apns', token: 'x' }],
    ['an unknown field', { platform: 'fcm', token: 'x', colour: 'red' }],
    ['a bad locale', { platform: 'fcm', token: 'x', locale: 'not a locale!' }],
  ]
  for (const [what, body] of bad) {
    const res = await call(app, 'POST', '/v1/me/devices', { token: ada.accessToken, body })
    t.equal(res.statusCode, 400, `${what}: 400`)
    t.equal(res.json.code, 'VALIDATION_FAILED', what)
  }
  t.equal(
    (await call(app, 'POST', '/v1/me/devices', { body: { platform: 'fcm', token: 'x' } })).statusCode,
    401,
    'signed in only',
  )
  // The http endpoint of a local push service is accepted.
  t.equal(
    (
      await call(app, 'POST', '/v1/me/devices', {
        token: ada.accessToken,
        body: { platform: 'webpush', subscription: subscription('http://127.0.0.1:9/push') },
      })
    ).statusCode,
    201,
  )
})

void t.test('a device ends with its session: logout, password reset, ban', async (t) => {
  const { app } = await pushApp(t)
  const admin = await anAdmin(app)
  const ada = await aUser(app)
  const adaTablet = await login(app, ada)
  const phone = await register(app, ada)
  const tablet = await register(app, adaTablet)
  const devices = async () => (await app.db('push_devices').where('user_id', ada.id).pluck('id')).sort()

  t.equal(
    (await call(app, 'POST', '/v1/auth/logout', { token: ada.accessToken, body: { refreshToken: ada.refreshToken } }))
      .statusCode,
    204,
  )
  t.same(await devices(), [tablet], "logout removed that session's device only")
  t.notOk(phone === tablet)

  const adaPhone = await login(app, ada)
  await register(app, adaPhone)
  t.equal((await devices()).length, 2)
  await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: ada.email } })
  const mail = await app.db('mail_outbox').where('to_address', ada.email).andWhere('subject', 'like', '%Reset%').first()
  const resetToken = /token=([\w-]+)/.exec(mail.text_body)![1]!
  const reset = await call(app, 'POST', '/v1/auth/reset-password', {
    body: { token: resetToken, password: 'a brand new password' },
  })
  t.equal(reset.statusCode, 204)
  t.same(await devices(), [], 'a password reset ends every session, and every device with it')

  const bola = await aUser(app)
  await register(app, bola)
  await register(app, await login(app, bola))
  const ban = await call(app, 'POST', `/v1/admin/users/${bola.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'fraud' },
  })
  t.equal(ban.statusCode, 200)
  t.equal((await app.db('push_devices').where('user_id', bola.id)).length, 0, 'a ban removes them all')

  // Any other path that revokes (password change, refresh-token reuse, account erasure) or deletes a session.
  const chidi = await aUser(app)
  await register(app, chidi)
  await app.db('sessions').where('user_id', chidi.id).update({ revoked_at: app.db.fn.now(), revoked_reason: 'test' })
  t.equal((await app.db('push_devices').where('user_id', chidi.id)).length, 0, 'a revoked session: gone')
  const dayo = await aUser(app)
  await register(app, dayo)
  await app.db('sessions').where('user_id', dayo.id).delete()
  t.equal((await app.db('push_devices').where('user_id', dayo.id)).length, 0, 'a deleted session: gone')
})

void t.test('the VAPID public key: 404 without keys, the key with them', async (t) => {
  const { app } = await pushApp(t)
  const none = await call(app, 'GET', '/v1/push/vapid-public-key')
  t.equal(none.statusCode, 404)
  t.equal(none.json.code, 'WEB_PUSH_NOT_CONFIGURED')
  const vapid = webpush.generateVAPIDKeys()
  const keyed = await build(t, {
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:ops@oja.test',
  })
  const res = await call(keyed, 'GET', '/v1/push/vapid-public-key')
  t.equal(res.statusCode, 200)
  t.same(res.json, { publicKey: vapid.publicKey })
})

void t.test('notification preferences: every type on by default, merged, 400s', async (t) => {
  const { app } = await pushApp(t)
  const ada = await aUser(app)
  const types = [
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
  const allOn = Object.fromEntries(types.map((ty) => [ty, true]))
  const defaults = await call(app, 'GET', '/v1/me/notification-preferences', { token: ada.accessToken })
  t.equal(defaults.statusCode, 200)
  t.same(defaults.json, { push: allOn, email: allOn, quietHours: null, unreadDigest: true })

  const quietHours = { start: '22:00', end: '07:00', timeZone: 'Africa/Lagos' }
  const first = await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: ada.accessToken,
    body: { push: { price_drop: false }, quietHours },
  })
  t.equal(first.statusCode, 200)
  t.same(first.json, { push: { ...allOn, price_drop: false }, email: allOn, quietHours, unreadDigest: true })
  const second = await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: ada.accessToken,
    body: { push: { offer: false }, email: { message: false }, unreadDigest: false },
  })
  t.same(
    second.json,
    {
      push: { ...allOn, price_drop: false, offer: false },
      email: { ...allOn, message: false },
      quietHours,
      unreadDigest: false,
    },
    'merged: what was not named is kept',
  )
  const cleared = await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: ada.accessToken,
    body: { quietHours: null, push: { price_drop: true } },
  })
  t.same(cleared.json.quietHours, null, 'quietHours: null clears them')
  t.equal(cleared.json.push.price_drop, true)
  t.same(
    (await call(app, 'GET', '/v1/me/notification-preferences', { token: ada.accessToken })).json,
    cleared.json,
    'as stored',
  )

  for (const [what, body] of [
    ['an unknown type', { push: { carrier_pigeon: false } }],
    ['a bad time zone', { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus_Mons' } }],
    ['a bad time', { quietHours: { start: '25:00', end: '07:00', timeZone: 'Africa/Lagos' } }],
    ['equal start and end', { quietHours: { start: '07:00', end: '07:00', timeZone: 'Africa/Lagos' } }],
    ['a non-boolean', { email: { offer: 'yes' } }],
    ['an unknown field', { sms: {} }],
  ] as const) {
    const res = await call(app, 'PATCH', '/v1/me/notification-preferences', { token: ada.accessToken, body })
    t.equal(res.statusCode, 400, `${what}: 400`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
  }
})

void t.test('mute: participants only; the conversation list shows it', async (t) => {
  const { app } = await pushApp(t)
  const { buyer, seller, conversation } = await aConversation(app, { message: 'Hello' })
  const outsider = await aUser(app)
  const mute = (user: SignedInUser, method: 'PUT' | 'DELETE') =>
    call(app, method, `/v1/conversations/${conversation.id}/mute`, { token: user.accessToken })
  t.equal(conversation.muted, false, 'a new conversation is not muted')
  t.equal((await mute(outsider, 'PUT')).statusCode, 404, 'not a participant: 404')
  t.equal((await mute(seller, 'PUT')).statusCode, 204)
  t.equal((await mute(seller, 'PUT')).statusCode, 204, 'idempotent')
  const listed = (user: SignedInUser) =>
    call(app, 'GET', '/v1/conversations', { token: user.accessToken }).then((r) => r.json.items[0].muted as boolean)
  t.equal(await listed(seller), true, 'muted for the seller')
  t.equal(await listed(buyer), false, 'not for the buyer')
  t.equal((await mute(seller, 'DELETE')).statusCode, 204)
  t.equal(await listed(seller), false)
  t.equal((await mute(outsider, 'DELETE')).statusCode, 404)
})

void t.test('unread counts: exact across sends and reads, with unread:updated', async (t) => {
  const { app } = await pushApp(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const unread = async (user: SignedInUser) =>
    (await call(app, 'GET', '/v1/me/unread', { token: user.accessToken })).json
  const lastUnreadEvent = async (user: SignedInUser) => {
    const events = (await call(app, 'GET', '/v1/me/events?limit=1000', { token: user.accessToken })).json
      .items as Json[]
    return events.filter((e) => e.event === 'unread:updated').at(-1)?.data
  }
  t.same(await unread(seller), { notifications: 0, messages: 0, conversations: 0 })

  await aMessage(app, buyer, conversation.id, 'Is it available?')
  const second = await aMessage(app, buyer, conversation.id, 'I can come today')
  // The seller had no live connection: each message also left a `message` notification.
  t.same(await unread(seller), { notifications: 2, messages: 2, conversations: 1 })
  t.same(
    await lastUnreadEvent(seller),
    // The first message's notification was written after it committed (the recipient was away).
    { messages: 2, notifications: 1, conversations: 1 },
    'told at each message',
  )
  t.same(
    await unread(buyer),
    { notifications: 0, messages: 0, conversations: 0 },
    "the sender's own messages are not unread",
  )
  t.equal(await lastUnreadEvent(buyer), undefined, 'the sender is not told')

  // A second conversation of the seller's.
  const other = await aConversation(app, { seller, message: 'Still for sale?' })
  t.same(await unread(seller), { notifications: 3, messages: 3, conversations: 2 })

  const read = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
    token: seller.accessToken,
    body: { upToMessageId: second.id },
  })
  t.equal(read.statusCode, 200)
  t.same(await unread(seller), { notifications: 3, messages: 1, conversations: 1 })
  t.same(await lastUnreadEvent(seller), { messages: 1, notifications: 3, conversations: 1 }, 'a read tells')
  t.same(await unread(other.buyer), { notifications: 0, messages: 0, conversations: 0 })

  const markAll = await call(app, 'POST', '/v1/notifications/read', { token: seller.accessToken, body: { all: true } })
  t.equal(markAll.json.updated, 3)
  t.same(await unread(seller), { notifications: 0, messages: 1, conversations: 1 })
  t.same(await lastUnreadEvent(seller), { messages: 1, notifications: 0, conversations: 1 }, 'notifications read tell')
  const count = (await call(app, 'GET', '/v1/me/events?limit=1000', { token: seller.accessToken })).json.items.filter(
    (e: Json) => e.event === 'unread:updated',
  ).length
  await call(app, 'POST', '/v1/notifications/read', { token: seller.accessToken, body: { all: true } })
  t.equal(
    (await call(app, 'GET', '/v1/me/events?limit=1000', { token: seller.accessToken })).json.items.filter(
      (e: Json) => e.event === 'unread:updated',
    ).length,
    count,
    'nothing read: nothing told',
  )
})

void t.test('a user away: one push per device per message, offer and order; collapse key, badge, data', async (t) => {
  const { app, push } = await pushApp(t)
  const ada = await aUser(app, { name: 'Ada' })
  const bola = await aUser(app, { name: 'Bola' })
  const listing = await aListing(app.db, bola.id, { title: 'Sofa', price: 8_000_000 })
  const phone = await register(app, bola)
  const browser = await register(app, bola, { platform: 'webpush', subscription: subscription() })
  const adaPhone = await register(app, ada, { platform: 'expo', token: 'ExponentPushToken[ada-phone]' })

  const open = await call(app, 'POST', '/v1/conversations', {
    token: ada.accessToken,
    body: { listingId: listing.id, message: 'is the sofa still available?' },
  })
  t.equal(open.statusCode, 201)
  const conversationId = open.json.id as string
  await deliver(app)
  t.equal(push.to(phone).length, 1, "one push to the seller's phone")
  t.equal(push.to(browser).length, 1, "one push to the seller's browser")
  t.equal(push.to(adaPhone).length, 0, 'none to the sender')
  const first = push.to(phone)[0]!.message
  t.match(first, {
    title: 'Sofa',
    body: 'Ada: is the sofa still available?',
    collapseKey: conversationId,
    badge: 2, // the message, and its `message` notification
    data: { type: 'message', conversationId, messageId: open.json.lastMessage.id, listingId: listing.id },
  })
  t.notOk(first.silent, 'not silent')
  t.same(push.to(browser)[0]!.message, first, 'the same push on each device')
  t.equal(push.to(phone)[0]!.platform, 'fcm')
  t.equal(push.to(browser)[0]!.platform, 'webpush')
  t.match(push.to(browser)[0]!.device.subscription, { endpoint: /^https:\/\/push\.example\.test\// })
  t.ok(
    (await call(app, 'GET', '/v1/me/devices', { token: bola.accessToken })).json.items.every((d: Json) => d.lastPushAt),
    'each device shows its last push',
  )

  // A long message is cut; a second one collapses onto the first.
  await aMessage(app, ada, conversationId, `Also, ${'could you hold it for me until Saturday please? '.repeat(5)}`)
  await deliver(app)
  const longer = push.to(phone)[1]!.message
  t.ok(longer.body.length <= 120 && longer.body.endsWith('…'), `truncated: ${longer.body}`)
  t.equal(longer.collapseKey, conversationId)
  t.equal(longer.badge, 4)

  // An offer: one push to the seller (its message and its notification are one push).
  const offer = await anOffer(app, ada, conversationId, 7_500_000)
  await deliver(app)
  t.equal(push.to(phone).length, 3, 'one push for the offer')
  t.match(push.to(phone)[2]!.message, {
    title: 'Sofa',
    body: 'Ada offered: ₦75,000',
    collapseKey: conversationId,
    data: { type: 'offer', offerId: offer.id, conversationId, listingId: listing.id },
  })
  const accepted = await call(app, 'POST', `/v1/offers/${offer.id}/accept`, { token: bola.accessToken })
  t.equal(accepted.statusCode, 200)
  await deliver(app)
  t.equal(push.to(adaPhone).length, 1, 'one push to the buyer')
  t.match(push.to(adaPhone)[0]!.message, {
    title: 'Sofa',
    body: 'Offer accepted: ₦75,000',
    data: { type: 'offer', offerId: offer.id, status: 'accepted', conversationId },
  })
  t.equal(push.to(phone).length, 3, 'nothing to the seller who accepted')

  // Nothing is sent twice, whatever runs again.
  await deliver(app)
  t.equal(push.calls.length, 7, 'three to each of the seller’s devices, one to the buyer’s')
  const rows = await app.db('push_outbox').whereNotNull('device_id')
  t.ok(
    rows.every((r: Json) => r.status === 'sent'),
    'every device row sent',
  )

  // A price drop reaches a wishlister away.
  t.equal((await call(app, 'PUT', `/v1/me/wishlist/${listing.id}`, { token: ada.accessToken })).statusCode, 204)
  await call(app, 'PATCH', `/v1/listings/${listing.id}`, { token: bola.accessToken, body: { price: 6_000_000 } })
  await app.priceDrops.drain() // the alert is the worker's, after the PATCH commits
  await deliver(app)
  t.match(push.to(adaPhone).at(-1)!.message, {
    title: 'Sofa',
    body: 'Price drop: Sofa now ₦60,000',
    data: { type: 'price_drop', listingId: listing.id },
  })
})

void t.test('an order paid: one push per device to the buyer and to the seller', async (t) => {
  const { app: commerce, paystack } = await commerceApp(t)
  const { app, push } = await pushApp(t, commerce)
  const buyer = await aUser(app, { name: 'Ada' })
  const seller = await aUser(app, { name: 'Bola' })
  const listing = await aListing(app.db, seller.id, { title: 'Bookshelf', price: 2_500_050 })
  const buyerPhone = await register(app, buyer)
  const sellerPhone = await register(app, seller)
  const sellerTablet = await register(app, await login(app, seller))
  const order = await paidOrder(app, paystack, buyer, [listing.id])
  t.equal(order.paymentStatus, 'paid')
  await deliver(app)
  t.equal(push.to(buyerPhone).length, 1, 'one push to the buyer')
  t.equal(push.to(sellerPhone).length, 1, "one to the seller's phone")
  t.equal(push.to(sellerTablet).length, 1, "one to the seller's tablet")
  t.match(push.to(buyerPhone)[0]!.message, {
    title: 'Payment received',
    body: 'Bookshelf: ₦25,000.50',
    data: { type: 'order_status', orderId: order.id, paymentStatus: 'paid' },
  })
  t.match(push.to(sellerPhone)[0]!.message, { title: 'New sale: ship it', body: 'Bookshelf: ₦25,000.50' })
})

void t.test('gone tokens are removed and never tried again; a retry is delivered once', async (t) => {
  const { app, push } = await pushApp(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const dead = await register(app, seller)
  const flaky = await register(app, seller, { platform: 'webpush', subscription: subscription() })
  push.answer = (p, nth) =>
    p.device.id === dead
      ? { outcome: 'gone' }
      : nth === 1
        ? { outcome: 'retry', retryAfterMs: 30_000, error: '429 Too Many Requests' }
        : { outcome: 'sent', providerId: 'wp-1' }

  await aMessage(app, buyer, conversation.id, 'first')
  await deliver(app)
  t.equal(push.to(dead).length, 1)
  t.equal(push.to(flaky).length, 1)
  t.same(await app.db('push_devices').where('id', dead), [], 'the gone device is deleted')
  const waiting = await app.db('push_outbox').where('device_id', flaky).first()
  t.match(waiting, { status: 'pending', attempts: 1, last_error: '429 Too Many Requests' })
  t.ok(new Date(waiting.next_attempt_at).getTime() - Date.now() > 25_000, 'waits as long as the provider asked')
  await deliver(app)
  t.equal(push.to(flaky).length, 1, 'not before its time')

  // Its time comes.
  await app
    .db('push_outbox')
    .where('device_id', flaky)
    .update({ next_attempt_at: app.db.raw("now() - interval '1 second'") })
  await deliver(app)
  t.equal(push.to(flaky).length, 2, 'tried again')
  t.match(await app.db('push_outbox').where('device_id', flaky).first(), {
    status: 'sent',
    provider_id: 'wp-1',
    attempts: 2,
  })
  await deliver(app)
  t.equal(push.to(flaky).length, 2, 'delivered once')

  await aMessage(app, buyer, conversation.id, 'second')
  await deliver(app)
  t.equal(push.to(dead).length, 1, 'the gone device is never tried again')
  t.equal(push.to(flaky).length, 3)

  // A provider outage: every try fails, rows wait (with back-off), nothing is lost.
  push.answer = () => {
    throw new Error('ECONNREFUSED')
  }
  await aMessage(app, buyer, conversation.id, 'third')
  await deliver(app)
  const third = await app.db('push_outbox').where('device_id', flaky).orderBy('created_at', 'desc').first()
  t.match(third, { status: 'pending', last_error: 'ECONNREFUSED' })
  push.answer = () => ({ outcome: 'sent' })
  await app
    .db('push_outbox')
    .where('id', third.id)
    .update({ next_attempt_at: app.db.raw('now()') })
  await deliver(app)
  t.equal(push.to(flaky).at(-1)!.message.body, 'Buyer: third', 'delivered once the provider is back')
  t.equal((await app.db('push_outbox').where('id', third.id).first()).status, 'sent')
})

void t.test('muted conversations, types switched off and blocks: no push; quiet hours: silent', async (t) => {
  const { app, push } = await pushApp(t)
  const { buyer, seller, conversation } = await aConversation(app)
  const phone = await register(app, seller)
  const mute = await call(app, 'PUT', `/v1/conversations/${conversation.id}/mute`, { token: seller.accessToken })
  t.equal(mute.statusCode, 204)
  await aMessage(app, buyer, conversation.id, 'muted')
  await anOffer(app, buyer, conversation.id, 5_000_000)
  await deliver(app)
  t.equal(push.to(phone).length, 0, 'a muted conversation: no push, not even its offers')
  t.same(
    (await outboxOf(app, seller.id)).map((r: Json) => [r.status, r.last_error]),
    [
      ['dropped', 'muted'],
      ['dropped', 'muted'],
    ],
  )
  await call(app, 'DELETE', `/v1/conversations/${conversation.id}/mute`, { token: seller.accessToken })

  await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: seller.accessToken,
    body: { push: { message: false } },
  })
  await aMessage(app, buyer, conversation.id, 'switched off')
  await deliver(app)
  t.equal(push.to(phone).length, 0, 'messages switched off: no push')
  await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: seller.accessToken,
    body: { push: { message: true } },
  })

  // Quiet hours around the present moment in Lagos.
  const now = new Date()
  const lagos = (offsetMinutes: number) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Africa/Lagos',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(now.getTime() + offsetMinutes * 60_000))
  await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: seller.accessToken,
    body: { quietHours: { start: lagos(-60), end: lagos(60), timeZone: 'Africa/Lagos' } },
  })
  await aMessage(app, buyer, conversation.id, 'at night')
  await deliver(app)
  t.equal(push.to(phone).length, 1, 'quiet hours: still one push')
  t.match(push.to(phone)[0]!.message, { silent: true, body: 'Buyer: at night', badge: Number })
  await call(app, 'PATCH', '/v1/me/notification-preferences', {
    token: seller.accessToken,
    body: { quietHours: { start: lagos(120), end: lagos(180), timeZone: 'Africa/Lagos' } },
  })
  await aMessage(app, buyer, conversation.id, 'by day')
  await deliver(app)
  t.notOk(push.to(phone)[1]!.message.silent, 'outside quiet hours: not silent')

  // A block after the message was queued: it never arrives.
  await aMessage(app, buyer, conversation.id, 'before the block')
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode, 204)
  await deliver(app)
  t.equal(push.to(phone).length, 2, 'a blocked sender: no push')
  t.equal((await outboxOf(app, seller.id)).at(-1).last_error, 'blocked')
})

void t.test('the kick after commit delivers at once', async (t) => {
  const { app, push } = await pushApp(t, await build(t, { PUSH_POLL_INTERVAL_MS: 600_000 }))
  const { buyer, seller, conversation } = await aConversation(app)
  const phone = await register(app, seller)
  app.push.worker.start()
  t.teardown(() => app.push.worker.stop())
  await new Promise((r) => setTimeout(r, 100)) // the first pass, at start, finds nothing
  await aMessage(app, buyer, conversation.id, 'now')
  for (let i = 0; i < 100 && push.to(phone).length === 0; i++) await new Promise((r) => setTimeout(r, 50))
  t.equal(push.to(phone).length, 1, 'pushed without waiting for the poll')
})

void t.test('two nodes: online on node B, no push from node A; two workers never push twice', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const push = new RecordingPush()
  a!.app.push.useSenders(push.senders())
  b!.app.push.useSenders(push.senders())
  const { buyer, seller, conversation } = await aConversation(a!.app)
  const phone = await register(a!.app, seller)
  const tablet = await register(a!.app, seller, { platform: 'webpush', subscription: subscription() })

  const live = await connect(t, b!, { token: seller.accessToken })
  await aMessage(a!.app, buyer, conversation.id, 'are you there?')
  await live.recorder.next('message:new')
  await a!.app.push.deliverDue()
  t.equal(push.calls.length, 0, 'the seller is online on node B: no push')
  t.match(await outboxOf(a!.app, seller.id), [{ status: 'dropped', last_error: 'online' }])

  live.socket.disconnect()
  for (let i = 0; i < 50 && b!.realtime.hub.count(seller.id) > 0; i++) await new Promise((r) => setTimeout(r, 20))
  const sent: string[] = []
  for (let i = 0; i < 30; i++) sent.push((await aMessage(a!.app, buyer, conversation.id, `message ${i}`)).id)
  // Both nodes' workers at once, in small batches.
  const drain = async (node: typeof a) => {
    for (let i = 0; i < 40; i++) if ((await node!.app.push.deliverDue()).claimed === 0) return
  }
  await Promise.all([drain(a), drain(b), drain(a), drain(b)])
  for (const device of [phone, tablet]) {
    const ids = push.to(device).map((p) => p.message.data.messageId)
    t.equal(ids.length, 30, `30 pushes to ${device === phone ? 'the phone' : 'the tablet'}`)
    t.same([...ids].sort(), [...sent].sort(), 'each message once')
  }
})

void t.test('admins: listing reports, review flags and disputes reach their devices', async (t) => {
  const { app, push } = await pushApp(t)
  const admin = await anAdmin(app)
  const adminPhone = await register(app, admin)
  const seller = await aUser(app)
  const buyer = await aUser(app)
  const listing = await aListing(app.db, seller.id, { title: 'Lamp' })
  const report = await call(app, 'POST', `/v1/listings/${listing.id}/reports`, {
    token: buyer.accessToken,
    body: { reason: 'counterfeit' },
  })
  t.equal(report.statusCode, 201)
  await deliver(app)
  t.match(push.to(adminPhone), [
    {
      message: {
        title: 'Admin: listing reported',
        body: 'Listing reported: counterfeit',
        data: { type: 'listing_reported', listingId: listing.id, reportId: report.json.id },
      },
    },
  ])

  const received = await aShipment(app.db, buyer.id, seller.id)
  const review = await call(app, 'POST', `/v1/shipments/${received.shipmentId}/reviews`, {
    token: buyer.accessToken,
    body: { rating: 2, body: 'Not as shown' },
  })
  t.equal(review.statusCode, 201)
  const flag = await call(app, 'POST', `/v1/reviews/${review.json.id}/flags`, {
    token: seller.accessToken,
    body: { reason: 'abusive' },
  })
  t.equal(flag.statusCode, 201, flag.body)
  await deliver(app)
  t.match(push.to(adminPhone)[1], {
    message: { body: 'Review flagged: abusive', data: { type: 'review_flagged', reviewId: review.json.id } },
  })

  // A dispute over a shipment whose money is held.
  const held = await aShipment(app.db, buyer.id, seller.id, { status: 'sent' })
  await app.db('shipment_money').insert({
    shipment_id: held.shipmentId,
    order_id: held.orderId,
    seller_id: seller.id,
    gross: 10_000_00,
    fee: 50_000,
    vat: 3_750,
    share: 946_250,
    handover_code: '123456',
  })
  const dispute = await call(app, 'POST', `/v1/shipments/${held.shipmentId}/disputes`, {
    token: buyer.accessToken,
    body: { reason: 'not_received', detail: 'Nothing came' },
  })
  t.equal(dispute.statusCode, 201, dispute.body)
  await deliver(app)
  t.match(push.to(adminPhone)[2], {
    message: {
      title: 'Dispute',
      body: 'A dispute was opened on an order',
      data: { type: 'dispute', disputeId: dispute.json.id, status: 'open' },
    },
  })
  t.equal(push.to(adminPhone).length, 3, 'one push each')
})

void t.test("a want's answer: its message and its notification are one push", async (t) => {
  const { app, push } = await pushApp(t)
  const author = await aUser(app, { name: 'Ada' })
  const seller = await aUser(app, { name: 'Bola' })
  const phone = await register(app, author)
  const want = await call(app, 'POST', '/v1/wants', {
    token: author.accessToken,
    body: { title: 'Baby cot', maxPrice: 5_000_000 },
  })
  t.equal(want.statusCode, 201)
  const withMessage = await aListing(app.db, seller.id, { title: 'Wooden cot' })
  const answer = await call(app, 'POST', `/v1/wants/${want.json.id}/responses`, {
    token: seller.accessToken,
    body: { listingId: withMessage.id, message: 'Mine is like new' },
  })
  t.ok([200, 201].includes(answer.statusCode), answer.body)
  await deliver(app)
  t.equal(push.to(phone).length, 1, 'one push')
  t.match(push.to(phone)[0]!.message, { body: 'Bola: Mine is like new', data: { type: 'message' } })

  const other = await aUser(app, { name: 'Chidi' })
  const bare = await aListing(app.db, other.id, { title: 'Travel cot' })
  const plain = await call(app, 'POST', `/v1/wants/${want.json.id}/responses`, {
    token: other.accessToken,
    body: { listingId: bare.id },
  })
  t.ok([200, 201].includes(plain.statusCode), plain.body)
  await deliver(app)
  t.equal(push.to(phone).length, 2)
  t.match(push.to(phone)[1]!.message, {
    title: 'Your want: Baby cot',
    body: 'Chidi answered with Travel cot',
    data: { type: 'want_response', wantId: want.json.id, listingId: bare.id },
  })
})
