/**
 * The push senders (src/push/providers.ts) against fakes that speak each protocol over loopback
 * HTTP (tests/fakes/webpush.ts, fcm.ts, expo.ts): what arrives (the Web Push payload decrypted
 * by the fake with the subscription's key), and what each service's answers become — 'sent',
 * 'gone', 'retry' (with Retry-After) or 'failed'. Also tests that the fakes refuse what the
 * real services refuse, so a sender that passes here is not passing against a push-over.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyBaseLogger } from 'fastify'
import pino from 'pino'
import t from 'tap'
import webpush from 'web-push'
import {
  createPushSenders,
  loadServiceAccount,
  logSender,
  retryAfterMs,
  webPushTopic,
  WEB_PUSH_MAX_PLAINTEXT,
  type PushConfig,
  type PushDevice,
  type PushMessage,
  type PushSender,
} from '../src/push/providers.js'
import { FakeExpo } from './fakes/expo.js'
import { FakeFcm } from './fakes/fcm.js'
import { FakeWebPush, type FakeSubscriptionJson } from './fakes/webpush.js'

type LogLine = Record<string, unknown>

/** A real pino logger that keeps its lines. */
function capturingLog(): { log: FastifyBaseLogger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) })
  return { log: log as unknown as FastifyBaseLogger, lines }
}

const quiet = pino({ level: 'silent' }) as unknown as FastifyBaseLogger
const vapid = webpush.generateVAPIDKeys()
const VAPID_SUBJECT = 'mailto:push@oja.example'

function senders(config: PushConfig): Record<'webpush' | 'fcm' | 'expo', PushSender> {
  return createPushSenders({ timeoutMs: 2000, ...config }, quiet)
}

function chatMessage(overrides: Partial<PushMessage> = {}): PushMessage {
  return {
    title: 'Ada Obi',
    body: 'Is the fan still available? I can pick it up in Yaba today.',
    data: { type: 'message', conversationId: 'c0ffee00-0000-4000-8000-000000000001' },
    collapseKey: 'c0ffee00-0000-4000-8000-000000000001',
    badge: 3,
    ...overrides,
  }
}

function webDevice(subscription: FakeSubscriptionJson | null): PushDevice {
  return {
    id: randomUUID(),
    platform: 'webpush',
    token: null,
    subscription: subscription ? { endpoint: subscription.endpoint, keys: subscription.keys } : null,
  }
}

function tokenDevice(platform: 'fcm' | 'expo', token: string | null): PushDevice {
  return { id: randomUUID(), platform, token, subscription: null }
}

void t.test('Web Push', async (t) => {
  const fake = await FakeWebPush.start()
  t.teardown(() => fake.close())
  const config: PushConfig = { vapid: { ...vapid, subject: VAPID_SUBJECT } }
  const { webpush: sender } = senders(config)

  void t.test('a push arrives encrypted, and the fake decrypts title, body, data and badge', async (t) => {
    const sub = fake.newSubscription({ applicationServerKey: vapid.publicKey })
    const message = chatMessage({ ttlSeconds: 3600 })
    const result = await sender.send(webDevice(sub), message)
    t.equal(result.outcome, 'sent')
    const [push] = fake.pushesFor(sub.id)
    t.ok(push, 'the service took it')
    t.same(push!.payload, { title: message.title, body: message.body, data: message.data, badge: 3 })
    t.equal(push!.ttl, 3600)
    t.equal(push!.urgency, 'normal')
    t.equal(push!.topic, webPushTopic(message.collapseKey!))
    t.same(push!.vapid, { subject: VAPID_SUBJECT, publicKey: vapid.publicKey })
    t.same(result, { outcome: 'sent', providerId: push!.location }, 'the push message resource is the provider id')
  })

  void t.test('Topic: a UUID collapse key becomes at most 32 base64url characters, the same each time', async (t) => {
    const key = randomUUID()
    const topic = webPushTopic(key)
    t.ok(topic.length <= 32, `${topic} has ${topic.length} characters`)
    t.match(topic, /^[A-Za-z0-9_-]+$/)
    t.equal(webPushTopic(key), topic)
    t.not(webPushTopic(randomUUID()), topic)
  })

  void t.test('a later push of the same conversation replaces one not yet delivered', async (t) => {
    const sub = fake.newSubscription()
    const device = webDevice(sub)
    const other = randomUUID()
    await sender.send(device, chatMessage({ body: 'first' }))
    await sender.send(device, chatMessage({ body: 'second' }))
    await sender.send(device, chatMessage({ body: 'elsewhere', collapseKey: other }))
    t.equal(fake.pushesFor(sub.id).length, 3, 'all three were accepted')
    t.same(
      fake.deliveredFor(sub.id).map((p) => (p.payload as { body: string }).body),
      ['second', 'elsewhere'],
      'the browser, once online, shows the latest of the conversation and the other one',
    )
    fake.setOnline(sub.id, true)
    await sender.send(device, chatMessage({ body: 'third' }))
    t.same(
      fake.deliveredFor(sub.id).map((p) => (p.payload as { body: string }).body),
      ['second', 'elsewhere', 'third'],
      'a push already shown is not replaced',
    )
  })

  void t.test('a TTL out of range is brought within 0 to 4 weeks rather than refused', async (t) => {
    const sub = fake.newSubscription()
    fake.setOnline(sub.id, true)
    t.equal((await sender.send(webDevice(sub), chatMessage({ ttlSeconds: -5 }))).outcome, 'sent')
    t.equal((await sender.send(webDevice(sub), chatMessage({ ttlSeconds: 1e9 }))).outcome, 'sent')
    t.same(
      fake.pushesFor(sub.id).map((p) => p.ttl),
      [0, 2_419_200],
    )
  })

  void t.test('silent: the payload says silent, at low urgency', async (t) => {
    const sub = fake.newSubscription()
    t.equal((await sender.send(webDevice(sub), chatMessage({ silent: true }))).outcome, 'sent')
    const [push] = fake.pushesFor(sub.id)
    t.match(push!.payload, { silent: true, badge: 3, data: { type: 'message' } })
    t.equal(push!.urgency, 'low')
  })

  void t.test('a body too long for 4 KB is cut to fit, and the push still goes', async (t) => {
    const sub = fake.newSubscription()
    const body = 'Ọjà '.repeat(3000)
    t.equal((await sender.send(webDevice(sub), chatMessage({ body }))).outcome, 'sent')
    const [push] = fake.pushesFor(sub.id)
    const sent = (push!.payload as { body: string }).body
    t.ok(sent.endsWith('…') && body.startsWith(sent.slice(0, -1)), 'a prefix of the body, with an ellipsis')
    t.ok(push!.plaintextBytes <= WEB_PUSH_MAX_PLAINTEXT, `${push!.plaintextBytes} bytes of payload`)
    t.ok(push!.bodyBytes <= 4096, `${push!.bodyBytes} bytes on the wire`)
    t.ok(push!.bodyBytes > 4000, 'and not cut more than needed')

    const data = { type: 'message', blob: 'x'.repeat(5000) }
    const calls = fake.calls.length
    const result = await sender.send(webDevice(sub), chatMessage({ data }))
    t.match(result, { outcome: 'failed', error: /over/ }, 'data alone too big: failed')
    t.equal(fake.calls.length, calls, 'without a request')
  })

  void t.test('a dead subscription is gone: 410, 404, or keys that cannot encrypt', async (t) => {
    const sub = fake.newSubscription()
    fake.expire(sub.id)
    t.same(await sender.send(webDevice(sub), chatMessage()), { outcome: 'gone' }, '410')
    fake.mode = 'notFound'
    t.same(await sender.send(webDevice(fake.newSubscription()), chatMessage()), { outcome: 'gone' }, '404')
    fake.mode = 'gone'
    t.same(await sender.send(webDevice(fake.newSubscription()), chatMessage()), { outcome: 'gone' }, 'mode gone')
    fake.mode = 'ok'
    const broken = { ...fake.newSubscription(), keys: { p256dh: 'bm90LWEta2V5', auth: 'c2hvcnQ' } }
    t.same(await sender.send(webDevice(broken), chatMessage()), { outcome: 'gone' }, 'keys of the wrong size')
    const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0xff)]).toString('base64url')
    const notAPoint = { ...fake.newSubscription(), keys: { p256dh: offCurve, auth: broken.keys.auth.repeat(4) } }
    t.same(await sender.send(webDevice(notAPoint), chatMessage()), { outcome: 'gone' }, 'p256dh not on P-256')
    const ftp = { ...fake.newSubscription(), endpoint: 'ftp://push.example/x' }
    t.same(await sender.send(webDevice(ftp), chatMessage()), { outcome: 'gone' }, 'an endpoint that is not http(s)')
    t.same(await sender.send(webDevice(null), chatMessage()), { outcome: 'gone' }, 'no subscription at all')
  })

  void t.test('429 with Retry-After (seconds, or an HTTP date) is a retry after that long', async (t) => {
    const sub = fake.newSubscription()
    fake.mode = 'rateLimited'
    fake.retryAfter = '7'
    t.match(await sender.send(webDevice(sub), chatMessage()), { outcome: 'retry', retryAfterMs: 7000, error: /429/ })
    fake.retryAfter = new Date(Date.now() + 60_000).toUTCString()
    const result = await sender.send(webDevice(sub), chatMessage())
    t.equal(result.outcome, 'retry')
    const wait = result.outcome === 'retry' ? result.retryAfterMs : undefined
    t.ok(wait !== undefined && wait > 55_000 && wait <= 60_000, `an HTTP date a minute away: ${wait} ms`)
    fake.mode = 'ok'
    fake.retryAfter = '7'
  })

  void t.test('503 is a retry; once it passes, the push goes', async (t) => {
    const sub = fake.newSubscription()
    fake.failNext(1, 503)
    t.match(await sender.send(webDevice(sub), chatMessage()), { outcome: 'retry', retryAfterMs: 7000, error: /503/ })
    t.equal((await sender.send(webDevice(sub), chatMessage())).outcome, 'sent')
    t.equal(fake.pushesFor(sub.id).length, 1)
  })

  void t.test('413 is failed: not the subscription, and retrying will not help', async (t) => {
    fake.mode = 'tooBig'
    t.match(await sender.send(webDevice(fake.newSubscription()), chatMessage()), { outcome: 'failed', error: /413/ })
    fake.mode = 'ok'
  })

  void t.test('no answer within the timeout is a retry', async (t) => {
    const { webpush: impatient } = createPushSenders({ ...config, timeoutMs: 300 }, quiet)
    fake.mode = 'hang'
    const started = Date.now()
    const result = await impatient.send(webDevice(fake.newSubscription()), chatMessage())
    fake.mode = 'ok'
    t.match(result, { outcome: 'retry', error: /did not answer within 300 ms/ })
    t.ok(Date.now() - started < 2000, 'and it gave up on time')
  })

  void t.test('a service nobody answers at is a retry', async (t) => {
    const gone = await FakeWebPush.start()
    const sub = gone.newSubscription()
    await gone.close()
    t.match(await sender.send(webDevice(sub), chatMessage()), { outcome: 'retry', error: /unreachable/ })
  })

  void t.test('a wrong VAPID key is refused by the fake (and is failed, not gone)', async (t) => {
    const other = webpush.generateVAPIDKeys()
    const sub = fake.newSubscription({ applicationServerKey: vapid.publicKey })
    // Claims our public key but signs with another private key: the signature cannot verify.
    const { webpush: forger } = senders({
      vapid: { publicKey: vapid.publicKey, privateKey: other.privateKey, subject: VAPID_SUBJECT },
    })
    t.match(await forger.send(webDevice(sub), chatMessage()), { outcome: 'failed', error: /401.*signature/ })
    // A whole other key pair: good signature, but not the key the browser subscribed with.
    const { webpush: stranger } = senders({ vapid: { ...other, subject: VAPID_SUBJECT } })
    t.match(await stranger.send(webDevice(sub), chatMessage()), { outcome: 'failed', error: /403/ })
    t.equal(fake.pushesFor(sub.id).length, 0, 'nothing was accepted')
  })

  void t.test('the fake checks what a push service checks: aud, the Authorization, the encryption', async (t) => {
    const sub = fake.newSubscription()
    const post = async (mutate: (r: { headers: Record<string, string>; body: Buffer }) => void) => {
      const details = webpush.generateRequestDetails(sub, JSON.stringify({ title: 't' }), {
        vapidDetails: { ...vapid, subject: VAPID_SUBJECT },
        contentEncoding: 'aes128gcm',
      })
      const request = { headers: { ...details.headers } as Record<string, string>, body: Buffer.from(details.body) }
      delete request.headers['Content-Length']
      mutate(request)
      const res = await fetch(sub.endpoint, { method: 'POST', headers: request.headers, body: request.body })
      return { status: res.status, text: await res.text() }
    }
    t.equal((await post(() => {})).status, 201, 'as web-push makes it: accepted')
    const otherAud = webpush.getVapidHeaders(
      'https://fcm.googleapis.com',
      VAPID_SUBJECT,
      vapid.publicKey,
      vapid.privateKey,
      'aes128gcm',
    )
    t.match(await post((r) => (r.headers.Authorization = otherAud.Authorization)), { status: 401, text: /aud/ })
    t.match(await post((r) => delete r.headers.Authorization), { status: 401 })
    t.match(await post((r) => (r.body[r.body.length - 1]! ^= 1)), { status: 400, text: /decrypt/ }, 'one bit flipped')
    t.match(await post((r) => delete r.headers.TTL), { status: 400, text: /TTL/ })
    t.match(await post((r) => (r.headers.Topic = randomUUID())), { status: 400, text: /Topic/ }, 'a raw UUID topic')
    t.equal(fake.pushesFor(sub.id).length, 1, 'only the good one was accepted')
  })
})

void t.test('FCM HTTP v1', async (t) => {
  const fake = await FakeFcm.start()
  t.teardown(() => fake.close())
  const config: PushConfig = {
    fcm: { serviceAccount: fake.serviceAccountJson, baseUrl: fake.url, tokenUrl: fake.tokenUrl },
  }
  const { fcm: sender } = senders(config)
  let n = 0
  const newToken = () => `fcm-token-${++n}:${randomUUID()}`

  void t.test('a push arrives with notification, data, collapse key and badge', async (t) => {
    const token = newToken()
    const message = chatMessage()
    const result = await sender.send(tokenDevice('fcm', token), message)
    const [sent] = fake.messagesFor(token)
    t.ok(sent, 'FCM took it')
    t.same(result, { outcome: 'sent', providerId: sent!.name })
    t.same(sent!.message.notification, { title: message.title, body: message.body })
    t.same(sent!.message.data, message.data)
    t.match(sent!.message.android, { collapse_key: message.collapseKey, priority: 'high' })
    t.match(sent!.message.apns, {
      headers: { 'apns-collapse-id': message.collapseKey, 'apns-priority': '10', 'apns-push-type': 'alert' },
      payload: { aps: { badge: 3, sound: 'default' } },
    })
    t.notOk(sent!.message.android?.ttl, 'no TTL asked, none sent')
  })

  void t.test('the bearer is fetched once and reused for later sends', async (t) => {
    const before = fake.tokenExchanges
    const fresh = senders(config).fcm
    const results = await Promise.all([1, 2, 3].map(() => fresh.send(tokenDevice('fcm', newToken()), chatMessage())))
    results.push(await fresh.send(tokenDevice('fcm', newToken()), chatMessage()))
    results.push(await fresh.send(tokenDevice('fcm', newToken()), chatMessage()))
    t.same(
      results.map((r) => r.outcome),
      ['sent', 'sent', 'sent', 'sent', 'sent'],
    )
    t.equal(fake.tokenExchanges - before, 1, 'one token exchange for five sends, three of them at once')
  })

  void t.test('a bearer revoked before it expires: one fresh exchange, and the push goes', async (t) => {
    await sender.send(tokenDevice('fcm', newToken()), chatMessage())
    const before = fake.tokenExchanges
    fake.revokeAccessTokens()
    const token = newToken()
    t.equal((await sender.send(tokenDevice('fcm', token), chatMessage())).outcome, 'sent')
    t.equal(fake.messagesFor(token).length, 1)
    t.equal(fake.tokenExchanges - before, 1, 'a new bearer was fetched, once')
    t.match(fake.calls.slice(-3), [{ status: 401, reason: 'bearer' }, { path: '/token', status: 200 }, { status: 200 }])
  })

  void t.test('silent: a data message, content-available for iOS, normal priority', async (t) => {
    const token = newToken()
    await sender.send(tokenDevice('fcm', token), chatMessage({ silent: true, ttlSeconds: 600 }))
    const [sent] = fake.messagesFor(token)
    t.notOk(sent!.message.notification, 'no notification block')
    t.same(sent!.message.data, chatMessage().data)
    t.match(sent!.message.android, { priority: 'normal', ttl: '600s' })
    t.match(sent!.message.apns, {
      headers: { 'apns-priority': '5', 'apns-expiration': /^\d+$/ },
      payload: { aps: { 'content-available': 1, badge: 3 } },
    })
    t.notOk(sent!.message.apns?.payload?.aps?.sound, 'no sound')
  })

  void t.test('an uninstalled app, or a token FCM calls invalid, is gone', async (t) => {
    const token = newToken()
    fake.unregister(token)
    t.same(await sender.send(tokenDevice('fcm', token), chatMessage()), { outcome: 'gone' }, '404 UNREGISTERED')
    fake.failNext(1, 'invalidToken')
    t.same(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), { outcome: 'gone' }, '400 on the token')
    t.same(await sender.send(tokenDevice('fcm', null), chatMessage()), { outcome: 'gone' }, 'no token at all')
  })

  void t.test('400 about the message, 403 sender mismatch: failed, the device stays', async (t) => {
    fake.failNext(1, 'invalidArgument')
    t.match(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'failed',
      error: /400: INVALID_ARGUMENT \(message.android.ttl\) Request contains/,
    })
    fake.failNext(1, 'senderIdMismatch')
    t.match(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'failed',
      error: /403.*SENDER_ID_MISMATCH/,
    })
  })

  void t.test('429 QUOTA_EXCEEDED honours Retry-After; 503 and 500 are retries', async (t) => {
    fake.failNext(1, 'quotaExceeded')
    t.match(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'retry',
      retryAfterMs: 11_000,
      error: /429.*QUOTA_EXCEEDED/,
    })
    fake.failNext(1, 'unavailable')
    t.match(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'retry',
      retryAfterMs: 11_000,
      error: /503/,
    })
    fake.failNext(1, 'internal')
    t.match(await sender.send(tokenDevice('fcm', newToken()), chatMessage()), { outcome: 'retry', error: /500/ })
    t.equal((await sender.send(tokenDevice('fcm', newToken()), chatMessage())).outcome, 'sent', 'then it passes')
  })

  void t.test('no answer within the timeout is a retry, at FCM or at the token URL', async (t) => {
    const impatient = () => createPushSenders({ ...config, timeoutMs: 300 }, quiet).fcm
    const warm = impatient()
    await warm.send(tokenDevice('fcm', newToken()), chatMessage())
    fake.mode = 'hang'
    t.match(await warm.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'retry',
      error: /did not answer within 300 ms/,
    })
    fake.mode = 'ok'
    fake.tokenMode = 'hang'
    const started = Date.now()
    t.match(await impatient().send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'retry',
      error: /token exchange/,
    })
    t.ok(Date.now() - started < 2000, 'the token exchange has the timeout too')
    fake.tokenMode = 'ok'
  })

  void t.test('the token URL: 503 is a retry with its Retry-After, invalid_grant is failed', async (t) => {
    fake.tokenMode = 'unavailable'
    t.match(await senders(config).fcm.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'retry',
      retryAfterMs: 11_000,
    })
    fake.tokenMode = 'invalidGrant'
    t.match(await senders(config).fcm.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'failed',
      error: /invalid_grant/,
    })
    fake.tokenMode = 'ok'
  })

  void t.test('the fake refuses an assertion signed with another key (the JWT is checked)', async (t) => {
    const other = await FakeFcm.start({ projectId: fake.projectId })
    t.teardown(() => other.close())
    // Our account's name and project, another account's private key.
    const forged = JSON.stringify({ ...fake.serviceAccount, private_key: other.serviceAccount.private_key })
    const refused = fake.refusedExchanges.length
    const { fcm: forger } = senders({ fcm: { ...config.fcm!, serviceAccount: forged } })
    t.match(await forger.send(tokenDevice('fcm', newToken()), chatMessage()), {
      outcome: 'failed',
      error: /invalid_grant/,
    })
    t.same(fake.refusedExchanges.slice(refused), ['Invalid JWT Signature.'])
  })

  void t.test(
    "the service account's token_uri is used when GOOGLE_TOKEN_URL is not set; a path works too",
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'oja-fcm-'))
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
      const file = join(dir, 'service-account.json')
      writeFileSync(file, fake.serviceAccountJson)
      const { fcm: fromFile } = senders({ fcm: { serviceAccount: file, baseUrl: fake.url } })
      const token = newToken()
      t.equal((await fromFile.send(tokenDevice('fcm', token), chatMessage())).outcome, 'sent')
      t.equal(loadServiceAccount(file).project_id, fake.projectId)
      t.throws(() => loadServiceAccount('{"type":"service_account"}'), /project_id/)
      t.throws(() => createPushSenders({ fcm: { serviceAccount: '{not json' } }, quiet), /not JSON/)
    },
  )
})

void t.test('Expo', async (t) => {
  const accessToken = 'expo-access-token-for-tests'
  const fake = await FakeExpo.start({ accessToken })
  t.teardown(() => fake.close())
  const config: PushConfig = { expo: { accessToken, pushUrl: fake.pushUrl } }
  const { expo: sender } = senders(config)

  void t.test('a push arrives with title, body, data, badge and collapseId, with the access token', async (t) => {
    const token = fake.newToken()
    const message = chatMessage({ ttlSeconds: 120 })
    const result = await sender.send(tokenDevice('expo', token), message)
    const [sent] = fake.messagesFor(token)
    t.ok(sent)
    t.same(result, { outcome: 'sent', providerId: sent!.ticketId })
    t.match(sent, {
      title: message.title,
      body: message.body,
      data: message.data,
      badge: 3,
      collapseId: message.collapseKey,
      ttl: 120,
      priority: 'high',
      sound: 'default',
    })
    t.equal(fake.calls.at(-1)!.authorization, `Bearer ${accessToken}`)
  })

  void t.test('silent: no title or body, content-available, the badge and data', async (t) => {
    const token = fake.newToken()
    await sender.send(tokenDevice('expo', token), chatMessage({ silent: true }))
    const [sent] = fake.messagesFor(token)
    t.notOk(sent!.title)
    t.notOk(sent!.body)
    t.notOk(sent!.sound)
    t.match(sent, { _contentAvailable: true, badge: 3, data: chatMessage().data, priority: 'normal' })
  })

  void t.test('DeviceNotRegistered is gone; so is a token that is not an Expo push token', async (t) => {
    const token = fake.newToken()
    fake.unregister(token)
    t.same(await sender.send(tokenDevice('expo', token), chatMessage()), { outcome: 'gone' })
    const calls = fake.calls.length
    t.same(await sender.send(tokenDevice('expo', 'not-a-token'), chatMessage()), { outcome: 'gone' })
    t.equal(fake.calls.length, calls, 'without asking Expo')
  })

  void t.test('429 with Retry-After, 503 and MessageRateExceeded are retries', async (t) => {
    fake.failNext(1, 'rateLimited')
    t.match(await sender.send(tokenDevice('expo', fake.newToken()), chatMessage()), {
      outcome: 'retry',
      retryAfterMs: 3000,
      error: /429.*TOO_MANY_REQUESTS/,
    })
    fake.failNext(1, 'unavailable')
    t.match(await sender.send(tokenDevice('expo', fake.newToken()), chatMessage()), { outcome: 'retry', error: /503/ })
    fake.failNext(1, 'messageRateExceeded')
    t.match(await sender.send(tokenDevice('expo', fake.newToken()), chatMessage()), {
      outcome: 'retry',
      error: /MessageRateExceeded/,
    })
  })

  void t.test('a wrong access token is failed (the fake checks it)', async (t) => {
    const { expo: wrong } = senders({ expo: { accessToken: 'not-ours', pushUrl: fake.pushUrl } })
    t.match(await wrong.send(tokenDevice('expo', fake.newToken()), chatMessage()), {
      outcome: 'failed',
      error: /401.*UNAUTHORIZED/,
    })
    const { expo: none } = senders({ expo: { pushUrl: fake.pushUrl } })
    t.match(await none.send(tokenDevice('expo', fake.newToken()), chatMessage()), { outcome: 'failed', error: /401/ })
  })

  void t.test('a long body is cut to fit Expo’s 4096 bytes', async (t) => {
    const token = fake.newToken()
    t.equal((await sender.send(tokenDevice('expo', token), chatMessage({ body: 'á'.repeat(5000) }))).outcome, 'sent')
    const [sent] = fake.messagesFor(token)
    t.ok(sent!.body!.endsWith('…'))
  })

  void t.test('no answer within the timeout is a retry', async (t) => {
    const { expo: impatient } = createPushSenders({ ...config, timeoutMs: 300 }, quiet)
    fake.failNext(1, 'hang')
    t.match(await impatient.send(tokenDevice('expo', fake.newToken()), chatMessage()), {
      outcome: 'retry',
      error: /did not answer within 300 ms/,
    })
  })
})

void t.test('without keys each platform gets the log sender, which logs the push', async (t) => {
  const { log, lines } = capturingLog()
  const all = createPushSenders({}, log)
  t.same(
    Object.values(all).map((s) => s.platform),
    ['webpush', 'fcm', 'expo'],
  )
  const device = tokenDevice('fcm', 'some-token')
  t.same(await all.fcm.send(device, chatMessage({ silent: true })), { outcome: 'sent' })
  t.match(lines.at(-1), {
    level: 30,
    msg: /fcm not configured/,
    push: {
      platform: 'fcm',
      deviceId: device.id,
      title: 'Ada Obi',
      data: { type: 'message' },
      badge: 3,
      silent: true,
      collapseKey: chatMessage().collapseKey,
    },
  })
  const expoLog = logSender('expo', log)
  await expoLog.send(tokenDevice('expo', null), chatMessage({ title: 'Order shipped' }))
  t.match(lines.at(-1), { push: { platform: 'expo', title: 'Order shipped' } })
})

void t.test('keys that cannot work stop the start', async (t) => {
  t.throws(() =>
    createPushSenders({ vapid: { publicKey: 'short', privateKey: 'short', subject: VAPID_SUBJECT } }, quiet),
  )
  t.throws(() => createPushSenders({ vapid: { ...vapid, subject: 'push@oja.example' } }, quiet), /subject/)
})

void t.test('Retry-After is read as seconds or as an HTTP date', async (t) => {
  const now = Date.parse('2025-03-01T12:00:00Z')
  t.equal(retryAfterMs('120', now), 120_000)
  t.equal(retryAfterMs('Sat, 01 Mar 2025 12:00:30 GMT', now), 30_000)
  t.equal(retryAfterMs('Sat, 01 Mar 2025 11:00:00 GMT', now), 0, 'a date gone by: now')
  t.equal(retryAfterMs('soon', now), undefined)
  t.equal(retryAfterMs(null, now), undefined)
})
