import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import type { StoredEvent } from '../src/events/events.types.js'

void t.test('seq is strictly increasing in commit order under 50 concurrent writers', async (t) => {
  const published: StoredEvent[] = []
  const app = await build(
    t,
    { DATABASE_POOL_MAX: 20 },
    { publisher: { publish: (events) => published.push(...events) } },
  )
  const u = await aUser(app)
  const ctx = { db: app.db, log: app.log }
  // Fifty transactions for one user at once, each holding its seq a little before commit.
  await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      app.spine.transaction(ctx, async (tx) => {
        await app.spine.append(tx, [{ userId: u.id, event: 'test:event', data: { i } }])
        await tx.db.raw('select pg_sleep(?)', [Math.random() * 0.02])
      }),
    ),
  )
  const rows = await app.db('user_events').where('user_id', u.id).orderBy('seq').select('seq', 'data')
  t.equal(rows.length, 50)
  t.same(
    rows.map((r) => r.seq),
    Array.from({ length: 50 }, (_, i) => i + 1),
    'no gaps, no duplicates',
  )
  t.equal(published.length, 50, 'each committed event published once')

  // A transaction that rolls back leaves no event and no hole.
  await t.rejects(
    app.spine.transaction(ctx, async (tx) => {
      await app.spine.append(tx, [{ userId: u.id, event: 'test:event', data: { i: 'rolled back' } }])
      throw new Error('boom')
    }),
  )
  await app.spine.transaction(ctx, (tx) =>
    app.spine.append(tx, [{ userId: u.id, event: 'test:event', data: { i: 'after' } }]),
  )
  const last = await app.db('user_events').where('user_id', u.id).max({ m: 'seq' }).first()
  t.equal(last?.m, 51, 'the rolled-back seq is reused: no gap')
  t.equal(published.length, 51, 'a rolled-back event is never published')
})

void t.test('a reader never sees seq n+1 before n commits', async (t) => {
  const app = await build(t, { DATABASE_POOL_MAX: 10 })
  const u = await aUser(app)
  const ctx = { db: app.db, log: app.log }
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let appended!: () => void
  const aHasSeq = new Promise<void>((r) => (appended = r))
  // Writer A takes seq 1 and waits before committing.
  const a = app.spine.transaction(ctx, async (tx) => {
    await app.spine.append(tx, [{ userId: u.id, event: 'slow', data: {} }])
    appended()
    await held
  })
  await aHasSeq
  // Writer B must wait for A's counter lock; it cannot commit seq 2 first.
  let bDone = false
  const b = app.spine
    .transaction(ctx, (tx) => app.spine.append(tx, [{ userId: u.id, event: 'fast', data: {} }]))
    .then(() => (bDone = true))
  await new Promise((r) => setTimeout(r, 200))
  const visible = await app.db('user_events').where('user_id', u.id).select('seq')
  t.equal(visible.length, 0, 'nothing visible while seq 1 is uncommitted')
  t.equal(bDone, false, 'the second writer waits')
  release()
  await Promise.all([a, b])
  const rows = await app.db('user_events').where('user_id', u.id).orderBy('seq').select('seq', 'event')
  t.same(rows, [
    { seq: 1, event: 'slow' },
    { seq: 2, event: 'fast' },
  ])
})

void t.test('notify is set-based, and the resync and notification routes', async (t) => {
  const app = await build(t)
  const users = await Promise.all(Array.from({ length: 5 }, () => aUser(app)))
  const ctx = { db: app.db, log: app.log }
  await app.spine.transaction(ctx, (tx) =>
    app.spine.notify(
      tx,
      users.map((u) => u.id),
      'price_drop',
      { listingId: 'l1', oldPrice: 500, newPrice: 400, currency: 'NGN' },
    ),
  )
  await app.spine.transaction(ctx, (tx) =>
    app.spine.notify(tx, tx.db('users').whereIn('id', [users[0]!.id]).select('id as user_id'), 'want_match', {
      wantId: 'w',
      listingId: 'l',
    }),
  )
  const u0 = users[0]!
  const list = await call(app, 'GET', '/v1/notifications?limit=1', { token: u0.accessToken })
  t.equal(list.statusCode, 200)
  t.equal(list.json.items.length, 1)
  t.equal(list.json.items[0].type, 'want_match')
  t.ok(list.json.nextCursor)
  const page2 = await call(app, 'GET', `/v1/notifications?limit=1&cursor=${list.json.nextCursor}`, {
    token: u0.accessToken,
  })
  t.equal(page2.json.items[0].type, 'price_drop')
  t.equal(page2.json.nextCursor, null)
  t.equal((await call(app, 'GET', '/v1/notifications?cursor=garbage', { token: u0.accessToken })).statusCode, 400)

  const events = await call(app, 'GET', '/v1/me/events?after=0', { token: u0.accessToken })
  t.same(
    events.json.items.map((e: { seq: number; event: string }) => [e.seq, e.event]),
    [
      [1, 'notification:new'],
      [2, 'notification:new'],
    ],
  )
  t.equal(events.json.hasMore, false)
  const after1 = await call(app, 'GET', '/v1/me/events?after=1&limit=1', { token: u0.accessToken })
  t.equal(after1.json.items[0].seq, 2)
  t.equal(after1.json.items[0].data.type, 'want_match')

  const read = await call(app, 'POST', '/v1/notifications/read', {
    token: u0.accessToken,
    body: { ids: [list.json.items[0].id] },
  })
  t.equal(read.json.updated, 1)
  const unread = await call(app, 'GET', '/v1/notifications?unread=true', { token: u0.accessToken })
  t.equal(unread.json.items.length, 1)
  // Another user's notification ids are not touched.
  const other = await call(app, 'POST', '/v1/notifications/read', {
    token: users[1]!.accessToken,
    body: { ids: [page2.json.items[0].id] },
  })
  t.equal(other.json.updated, 0)
  t.equal(
    (await call(app, 'POST', '/v1/notifications/read', { token: u0.accessToken, body: { all: true } })).json.updated,
    1,
  )
  t.equal(
    (await call(app, 'POST', '/v1/notifications/read', { token: u0.accessToken, body: { all: false } })).statusCode,
    400,
  )
  t.equal((await call(app, 'GET', '/v1/notifications')).statusCode, 401)
})

void t.test('notification paging keeps microseconds: rows in the same millisecond are not skipped', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  await app.db('notifications').insert(
    ['100', '200', '300'].map((us) => ({
      user_id: u.id,
      type: 'offer',
      data: { us },
      created_at: `2026-01-01T00:00:00.000${us}Z`,
    })),
  )
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res = await call(app, 'GET', `/v1/notifications?limit=1${cursor ? `&cursor=${cursor}` : ''}`, {
      token: u.accessToken,
    })
    seen.push(...res.json.items.map((n: { data: { us: string } }) => n.data.us))
    cursor = res.json.nextCursor
  } while (cursor)
  t.same(seen, ['300', '200', '100'], 'each row exactly once, newest first')
})
