/**
 * Push: a price drop on a listing with 10 000 wishlisters, every one away with an FCM device
 * (the fake FCM on loopback, through the real sender: OAuth token, HTTP v1 send). Reported:
 * pushes delivered per second by the worker (one node draining the outbox; the price-drop
 * worker's batches write the push outbox rows with the notifications), and the time from the
 * PATCH to the last push.
 *
 * And the cost push adds to a chat send: `POST /v1/conversations/:id/messages` p50 and p99
 * over sequential sends to a recipient with three devices (the outbox row written in the
 * send's transaction, the worker sending meanwhile) against the same to a recipient with no
 * device (the hook finds nothing to write). Target: ≤ 5 % of p50.
 */
import { randomUUID } from 'node:crypto'
import type { OjaApp } from '../../../src/app.js'
import { buildApp } from '../../../src/app.js'
import { testConfig } from '../../helpers/app.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
import { categoryId } from '../../factories/listings.js'
import { FakeFcm } from '../../fakes/fcm.js'
import { FakeExpo } from '../../fakes/expo.js'
import { percentile, type BenchContext, type BenchRow, type Scenario } from '../lib.js'

async function register(app: OjaApp, email: string): Promise<{ id: string; token: string }> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    payload: { email, password: 'long enough pw', name: email.split('@')[0] },
  })
  const body = res.json() as { accessToken: string; user: { id: string } }
  return { id: body.user.id, token: body.accessToken }
}

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const wishlisters = ctx.quick ? 1_000 : 10_000
  const sends = ctx.quick ? 100 : 400
  const name = await createTestDatabase()
  const [fcm, expo] = await Promise.all([FakeFcm.start(), FakeExpo.start()])
  let app: OjaApp | undefined
  const rows: BenchRow[] = []
  try {
    app = await buildApp(
      testConfig(
        { name, url: databaseUrl(name) },
        {
          DATABASE_POOL_MAX: 10,
          LOG_LEVEL: 'silent',
          FCM_SERVICE_ACCOUNT: fcm.serviceAccountJson,
          FCM_BASE_URL: fcm.url,
          GOOGLE_TOKEN_URL: fcm.tokenUrl,
          EXPO_PUSH_URL: expo.pushUrl,
          PUSH_WORKER_BATCH: 500,
        },
      ),
      { background: false, logger: false },
    )
    await app.ready()
    const seller = await register(app, `seller-${randomUUID().slice(0, 8)}@bench.oja`)
    const [listing] = await app
      .db('listings')
      .insert({
        seller_id: seller.id,
        title: 'Dining table, six chairs',
        description: 'Solid wood',
        type: 'sale',
        price: 500_000_00,
        condition: 'good',
        category_id: await categoryId(app.db, 'tables-desks'),
        quantity: 1,
        status: 'active',
      })
      .returning('id')
    // 10 000 wishlisters, each signed in on one phone with an FCM token (set-based).
    await app.db.raw(
      `with u as (
         insert into users (email, password_hash, name)
         select 'fan' || g || '@bench.oja', 'x', 'Fan ' || g from generate_series(1, :n) g returning id
       ), w as (
         insert into wishlists (user_id, listing_id) select id, :listingId from u
       ), s as (
         insert into sessions (user_id, expires_at) select id, now() + interval '1 day' from u returning id, user_id
       )
       insert into push_devices (user_id, session_id, platform, token)
       select user_id, id, 'fcm', 'fcm-bench-' || user_id from s`,
      { n: wishlisters, listingId: listing!.id },
    )

    const started = performance.now()
    const patch = await app.inject({
      method: 'PATCH',
      url: `/v1/listings/${listing!.id}`,
      headers: { authorization: `Bearer ${seller.token}` },
      payload: { price: 450_000_00 },
    })
    if (patch.statusCode !== 200) throw new Error(`patch: ${patch.statusCode} ${patch.body}`)
    const patchMs = performance.now() - started
    // The PATCH wrote one price-drop outbox row: its fan-out writes the notifications and, with
    // them, the push outbox rows (this node runs no background loops: drained here).
    const fanStart = performance.now()
    const fanout = await app.priceDrops.drain()
    const fanMs = performance.now() - fanStart
    const alerted = fanout.reduce((n, b) => n + b.alerted, 0)
    if (alerted !== wishlisters) throw new Error(`price-drop fan-out alerted ${alerted} of ${wishlisters}`)
    const drainStart = performance.now()
    let sent = 0
    for (let i = 0; i < 10_000; i++) {
      const pass = await app.push.deliverDue()
      sent += pass.sent
      if (pass.claimed === 0) break
    }
    const drainMs = performance.now() - drainStart
    const received = fcm.messages.length
    if (received !== wishlisters) throw new Error(`FCM received ${received} of ${wishlisters} pushes (sent ${sent})`)
    rows.push({
      scenario: 'push: price drop to offline devices',
      variant: 'oja',
      rps: received / (drainMs / 1000),
      note: `${received} FCM pushes through the real sender and the fake FCM: PATCH ${patchMs.toFixed(0)} ms, price-drop fan-out ${fanMs.toFixed(0)} ms (${fanout.length} batches), outbox drained in ${(drainMs / 1000).toFixed(1)} s, last push ${((performance.now() - started) / 1000).toFixed(1)} s after the PATCH; ${fcm.tokenExchanges} OAuth exchange(s)`,
    })

    // Chat sends: to a recipient with three devices, and to one with none.
    const buyer = await register(app, `buyer-${randomUUID().slice(0, 8)}@bench.oja`)
    const withDevices = await register(app, `phones-${randomUUID().slice(0, 8)}@bench.oja`)
    const withoutDevices = await register(app, `nophone-${randomUUID().slice(0, 8)}@bench.oja`)
    for (const body of [
      { platform: 'fcm', token: `fcm-${randomUUID()}` },
      { platform: 'expo', token: expo.newToken() },
      { platform: 'fcm', token: `fcm-${randomUUID()}` },
    ]) {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/me/devices',
        headers: { authorization: `Bearer ${withDevices.token}` },
        payload: body,
      })
      if (res.statusCode !== 201) throw new Error(`device: ${res.statusCode} ${res.body}`)
    }
    const conversationWith = async (sellerId: string) => {
      const [l] = await app!
        .db('listings')
        .insert({
          seller_id: sellerId,
          title: 'Armchair',
          description: 'Green',
          type: 'sale',
          price: 20_000_00,
          condition: 'good',
          category_id: await categoryId(app!.db),
          quantity: 1,
          status: 'active',
        })
        .returning('id')
      const res = await app!.inject({
        method: 'POST',
        url: '/v1/conversations',
        headers: { authorization: `Bearer ${buyer.token}` },
        payload: { listingId: l!.id },
      })
      return (res.json() as { id: string }).id
    }
    const measure = async (conversationId: string): Promise<number[]> => {
      const samples: number[] = []
      for (let i = 0; i < sends; i++) {
        const t0 = performance.now()
        const res = await app!.inject({
          method: 'POST',
          url: `/v1/conversations/${conversationId}/messages`,
          headers: { authorization: `Bearer ${buyer.token}` },
          payload: { body: `Is it still available? (${i})` },
        })
        samples.push(performance.now() - t0)
        if (res.statusCode !== 201) throw new Error(`send: ${res.statusCode} ${res.body}`)
        // Let the worker (kicked after commit) run between sends, as it would between users.
        await new Promise((r) => setImmediate(r))
      }
      return samples
    }
    const withConv = await conversationWith(withDevices.id)
    const withoutConv = await conversationWith(withoutDevices.id)
    // Alternate halves so drift in the machine affects both alike.
    const a: number[] = []
    const b: number[] = []
    for (let round = 0; round < 4; round++) {
      a.push(...(await measure(withConv)).slice(5))
      b.push(...(await measure(withoutConv)).slice(5))
    }
    for (let i = 0; i < 50; i++) if ((await app.push.deliverDue()).claimed === 0) break
    const p50a = percentile(a, 50)
    const p50b = percentile(b, 50)
    const pushes = fcm.messages.length - received + expo.messages.length
    rows.push({
      scenario: 'push: chat send with push',
      variant: 'oja',
      p50: p50a,
      p95: percentile(a, 95),
      p99: percentile(a, 99),
      target: '≤ 5 % over p50 without',
      met: p50a <= p50b * 1.05,
      note: `POST message to a recipient with 3 devices, ${a.length} sends; ${pushes} pushes sent meanwhile; p50 +${(((p50a - p50b) / p50b) * 100).toFixed(1)} % over the recipient with none`,
    })
    rows.push({
      scenario: 'push: chat send with push',
      variant: 'no devices',
      p50: p50b,
      p95: percentile(b, 95),
      p99: percentile(b, 99),
      note: `the same sends to a recipient with no device, ${b.length} sends`,
    })
  } finally {
    await app?.close()
    await Promise.all([fcm.close(), expo.close()])
    await dropTestDatabase(name)
  }
  return rows
}

export const scenario: Scenario = { name: 'push', order: 70, run }
