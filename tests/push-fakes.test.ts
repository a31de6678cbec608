/**
 * Push end to end through the real senders and the protocol fakes (tests/fakes/webpush.ts,
 * fcm.ts, expo.ts): the app is configured with VAPID keys, an FCM service account and an
 * Expo URL pointing at the fakes, exactly as production would be with real keys. A chat
 * message to a user who is away reaches each of their three devices once (the Web Push
 * payload decrypted by the fake with the subscription's keys; FCM after its OAuth token
 * exchange), collapsed per conversation with the unread badge; a dead FCM token is removed
 * and never tried again; a Web Push 503 is retried and delivered once.
 */
import t from 'tap'
import webpush from 'web-push'
import { build, call, type TestApp } from './helpers/app.js'
import { aConversation, aMessage } from './factories/chat.js'
import { FakeWebPush } from './fakes/webpush.js'
import { FakeFcm } from './fakes/fcm.js'
import { FakeExpo } from './fakes/expo.js'

async function drain(app: TestApp): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await app.push.deliverDue()).claimed === 0) return
  throw new Error('the push outbox did not drain')
}

void t.test('a message to an away user reaches each of their devices once, through every protocol', async (t) => {
  const [wp, fcm, expo] = await Promise.all([FakeWebPush.start(), FakeFcm.start(), FakeExpo.start()])
  t.teardown(() => Promise.all([wp.close(), fcm.close(), expo.close()]))
  const vapid = webpush.generateVAPIDKeys()
  const app = await build(t, {
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    VAPID_SUBJECT: 'mailto:ops@oja.test',
    FCM_SERVICE_ACCOUNT: fcm.serviceAccountJson,
    FCM_BASE_URL: fcm.url,
    GOOGLE_TOKEN_URL: fcm.tokenUrl,
    EXPO_PUSH_URL: expo.pushUrl,
  })
  const { buyer, seller, conversation } = await aConversation(app)
  const key = await call(app, 'GET', '/v1/push/vapid-public-key')
  t.equal(key.json.publicKey, vapid.publicKey, 'web clients get the VAPID key')

  const sub = wp.newSubscription({ applicationServerKey: vapid.publicKey })
  const fcmToken = 'fcm-token-of-the-sellers-phone'
  const expoToken = expo.newToken()
  for (const body of [
    { platform: 'webpush', subscription: { endpoint: sub.endpoint, keys: sub.keys } },
    { platform: 'fcm', token: fcmToken },
    { platform: 'expo', token: expoToken },
  ]) {
    const res = await call(app, 'POST', '/v1/me/devices', { token: seller.accessToken, body })
    t.equal(res.statusCode, 201, res.body)
  }

  await aMessage(app, buyer, conversation.id as string, 'Is the sofa still available?')
  await drain(app)
  // The badge is the unread total the app shows: messages + notifications of GET /v1/me/unread.
  const badgeNow = async () => {
    const u = (await call(app, 'GET', '/v1/me/unread', { token: seller.accessToken })).json
    return (u.messages as number) + (u.notifications as number)
  }
  const badge1 = await badgeNow()
  t.ok(badge1 >= 1)
  const [web] = wp.pushesFor(sub.id)
  t.equal(wp.pushesFor(sub.id).length, 1, 'one Web Push')
  t.match(web?.payload, {
    title: String,
    body: /Is the sofa still available\?/,
    data: { type: 'message', conversationId: conversation.id },
  })
  t.ok(
    web?.topic && web.topic.length <= 32 && /^[A-Za-z0-9_-]+$/.test(web.topic),
    'a Topic of at most 32 base64url characters',
  )
  t.equal(web?.vapid.publicKey, vapid.publicKey, 'signed with our VAPID key')
  const [android] = fcm.messagesFor(fcmToken)
  t.equal(fcm.messagesFor(fcmToken).length, 1, 'one FCM message')
  t.match(android?.message, {
    notification: { body: /Is the sofa still available\?/ },
    data: { type: 'message', conversationId: conversation.id },
    android: { collapse_key: conversation.id },
    apns: { headers: { 'apns-collapse-id': conversation.id }, payload: { aps: { badge: badge1 } } },
  })
  t.equal(fcm.tokenExchanges, 1, 'after one OAuth token exchange')
  const [ios] = expo.messagesFor(expoToken)
  t.equal(expo.messagesFor(expoToken).length, 1, 'one Expo push')
  t.match(ios, { body: /Is the sofa still available\?/, badge: badge1, collapseId: conversation.id })

  // A second message: one more each, the badge grows, the token is reused, the Topic collapses.
  await aMessage(app, buyer, conversation.id as string, 'I can pick it up today')
  await drain(app)
  t.equal(fcm.messagesFor(fcmToken).length, 2)
  const badge2 = await badgeNow()
  t.ok(badge2 > badge1, 'the badge grows')
  t.match(fcm.messagesFor(fcmToken)[1]?.message, { apns: { payload: { aps: { badge: badge2 } } } })
  t.equal(fcm.tokenExchanges, 1, 'the bearer is cached')
  t.equal(expo.messagesFor(expoToken).length, 2)
  t.equal(wp.pushesFor(sub.id)[1]?.topic, web?.topic, 'the same Topic for the same conversation')
  t.equal(wp.deliveredFor(sub.id).length, 1, 'an undelivered push is replaced by the newer one of its Topic')

  // The phone's FCM token died: the device is removed and never tried again.
  fcm.unregister(fcmToken)
  await aMessage(app, buyer, conversation.id as string, 'Hello?')
  await drain(app)
  const devices = await call(app, 'GET', '/v1/me/devices', { token: seller.accessToken })
  t.same(
    (devices.json.items as { platform: string }[]).map((d) => d.platform).sort(),
    ['expo', 'webpush'],
    'the dead FCM device is gone',
  )
  const sendsBefore = fcm.calls.filter((c) => c.path.includes('messages:send')).length
  await aMessage(app, buyer, conversation.id as string, 'Still there?')
  await drain(app)
  t.equal(fcm.calls.filter((c) => c.path.includes('messages:send')).length, sendsBefore, 'and never tried again')

  // The Web Push service is down once: the push waits, then arrives once.
  const before = wp.pushesFor(sub.id).length
  wp.failNext(1, 503)
  await aMessage(app, buyer, conversation.id as string, 'Last one')
  await drain(app)
  t.equal(wp.pushesFor(sub.id).length, before, 'not delivered while the service answers 503')
  const waiting = await app.db('push_outbox').whereNotNull('device_id').whereNull('sent_at').where('status', 'pending')
  t.ok(waiting.length >= 1, 'it waits in the outbox')
  await app
    .db('push_outbox')
    .whereIn(
      'id',
      waiting.map((r: { id: string }) => r.id),
    )
    .update({ next_attempt_at: app.db.fn.now() })
  await drain(app)
  t.equal(wp.pushesFor(sub.id).length, before + 1, 'then delivered exactly once')
  t.equal(expo.messagesFor(expoToken).length, 5, 'the other device was not held back')
})
