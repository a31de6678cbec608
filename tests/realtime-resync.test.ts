import t from 'tap'
import type { OjaApp } from '../src/app.js'
import { call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aConversation } from './factories/chat.js'
import { connect, openFeed, redisProxy, request, startNode, startNodes, type Recorder } from './helpers/nodes.js'
import { testDatabase } from './helpers/app.js'

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** Stores one event for a user through a node's spine (published after commit, like any change). */
const anEvent = (app: OjaApp, userId: string, n: number) =>
  app.spine.transaction({ db: app.db, log: app.log }, (tx) =>
    app.spine.append(tx, [
      { userId, event: 'order:status', data: { orderId: `o-${n}`, paymentStatus: 'paid', shipments: [] } },
    ]),
  )

const until = async (test: () => boolean | Promise<boolean>, what: string, ms = 10_000) => {
  const start = Date.now()
  while (!(await test())) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
const lastSeqOf = (r: Recorder) => r.seqs().at(-1) ?? 0

void t.test(
  'catch-up with lastSeq while live events pour in from both nodes: every event once, in order',
  async (t) => {
    const {
      nodes: [a, b],
    } = await startNodes(t, 2)
    const user = await aUser(a!.app)
    for (let i = 1; i <= 30; i++) await anEvent(a!.app, user.id, i)

    for (const [round, lastSeq] of [
      [1, 10],
      [2, 0],
    ] as const) {
      const base = 30 + (round - 1) * 40
      // Forty more events, alternating nodes, racing the catch-up below.
      const writers = (async () => {
        for (let i = 1; i <= 40; i++) await anEvent(i % 2 ? a!.app : b!.app, user.id, base + i)
      })()
      const client = await connect(t, round === 1 ? a! : b!, { token: user.accessToken, lastSeq })
      const feed = await openFeed(t, round === 1 ? b! : a!, { token: user.accessToken, lastSeq })
      await writers
      await client.recorder.next('order:status', (d) => d.orderId === `o-${base + 40}`)
      await feed.recorder.next('order:status', (d) => d.orderId === `o-${base + 40}`)
      t.same(
        client.recorder.seqs(),
        range(lastSeq + 1, base + 40),
        `round ${round}: socket got ${lastSeq + 1}..${base + 40} once each, in order`,
      )
      t.same(feed.recorder.seqs(), range(lastSeq + 1, base + 40), `round ${round}: the feed too`)
      t.same(
        client.recorder.received.map((r) => r.payload.data.orderId),
        range(lastSeq + 1, base + 40).map((n) => `o-${n}`),
        'the right data with each seq',
      )
      client.socket.disconnect()
      feed.ws.close()
    }
  },
)

void t.test(
  'a client that drops and comes back (to the other node) with its lastSeq misses nothing and repeats nothing',
  async (t) => {
    const {
      nodes: [a, b],
    } = await startNodes(t, 2)
    const { buyer, seller, conversation } = await aConversation(a!.app)
    let last = 0
    const auth = () => ({ token: seller.accessToken, lastSeq: last })
    const first = await connect(t, a!, auth)
    first.socket.onAny((_e: string, p: { seq?: number }) => (last = p.seq ?? last))
    const buyerB = await connect(t, b!, { token: buyer.accessToken })
    for (let i = 0; i < 3; i++)
      await request(buyerB.socket, 'message:send', {
        conversationId: conversation.id,
        body: `before ${i}`,
        clientId: `b-${i}`,
      })
    await first.recorder.next('message:new', (m) => m.body === 'before 2')
    // Each message to the seller is followed by their `unread:updated`.
    await first.recorder.next('unread:updated', (u) => u.messages === 3)
    first.socket.disconnect()
    t.equal(last, 6)

    for (let i = 0; i < 4; i++)
      await request(buyerB.socket, 'message:send', {
        conversationId: conversation.id,
        body: `while away ${i}`,
        clientId: `w-${i}`,
      })
    const again = await connect(t, b!, auth)
    const racing = request(buyerB.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'right after',
      clientId: 'r-1',
    })
    await racing
    await again.recorder.next('message:new', (m) => m.body === 'right after')
    await again.recorder.next('unread:updated', (u) => u.messages === 8)
    // Offline meanwhile, the seller also got a `message` notification for each message while away
    // (message:new, unread:updated, notification:new each).
    t.same(again.recorder.seqs(), range(7, 20), 'what was missed, then the live one: no gap, no duplicate')
    t.same(
      again.recorder.of('message:new').map((r) => r.payload.data.body),
      ['while away 0', 'while away 1', 'while away 2', 'while away 3', 'right after'],
    )
    t.equal(again.recorder.of('notification:new').length, 4)

    // The REST resync gives the same events.
    const rest = await call(b!.app, 'GET', '/v1/me/events?after=6', { token: seller.accessToken })
    t.same(
      rest.json.items.map((e: { seq: number }) => e.seq),
      range(7, 20),
    )
  },
)

void t.test('logout and an admin ban drop live connections on every node at once', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const user = await aUser(a!.app)
  const second = await call(a!.app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
  const s1OnB = await connect(t, b!, { token: user.accessToken })
  const s1OnA = await connect(t, a!, { token: user.accessToken })
  const s1Feed = await openFeed(t, b!, { token: user.accessToken })
  const s2OnB = await connect(t, b!, { token: second.json.accessToken })
  const ended = new Promise<{ reason: string; disconnect: string }>((resolve) => {
    let reason = ''
    s1OnB.socket.on('session:ended', (p) => (reason = p.reason))
    s1OnB.socket.on('disconnect', (d) => resolve({ reason, disconnect: d }))
  })

  t.equal(
    (await call(a!.app, 'POST', '/v1/auth/logout', { body: { refreshToken: user.refreshToken } })).statusCode,
    204,
  )
  t.same(
    await ended,
    { reason: 'logout', disconnect: 'io server disconnect' },
    'the socket on the other node is told and dropped (no auto-reconnect)',
  )
  t.same(await s1Feed.closed, { code: 4001, reason: 'logout' })
  await until(() => !s1OnA.socket.connected, 'the same session on node A')
  t.equal(s2OnB.socket.connected, true, 'the user’s other session stays')
  await anEvent(a!.app, user.id, 1)
  await s2OnB.recorder.next('order:status')

  // An admin's ban on node B ends every session of the user, on every node.
  const onA = await connect(t, a!, { token: second.json.accessToken })
  const banned = new Promise<string>((resolve) => onA.socket.on('session:ended', (p) => resolve(p.reason)))
  const admin = await anAdmin(b!.app)
  const ban = await call(b!.app, 'POST', `/v1/admin/users/${user.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'spam' },
  })
  t.equal(ban.statusCode, 200, ban.body)
  t.equal(await banned, 'banned')
  await until(() => !s2OnB.socket.connected, 'the other session on node B')
  t.equal(
    a!.realtime.hub.count(user.id) + b!.realtime.hub.count(user.id),
    0,
    'no connection of the user is left anywhere',
  )
})

void t.test(
  'Redis cut for one node: REST keeps working, nothing is lost, delivery resumes when it returns',
  async (t) => {
    const db = await testDatabase(t)
    const proxy = await redisProxy(t)
    const a = await startNode(t, db, { env: { RATE_LIMIT_SCALE: 1 } })
    // Node B reaches Redis (adapter, rate limits, everything) only through the proxy.
    const b = await startNode(t, db, { env: { RATE_LIMIT_SCALE: 1, REDIS_URL: proxy.url } })
    const { buyer, seller, conversation } = await aConversation(a.app)
    const buyerA = await connect(t, a, { token: buyer.accessToken })
    const sellerB = await connect(t, b, { token: seller.accessToken })
    await request(sellerB.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'before the cut',
      clientId: 'c-0',
    })
    await buyerA.recorder.next('message:new', (m) => m.body === 'before the cut')
    await buyerA.recorder.next('unread:updated', (u) => u.messages === 1)

    proxy.cut()
    await until(() => !b.realtime.link!.up, 'node B to notice')
    t.equal((await call(b.app, 'GET', '/ready')).statusCode, 503, 'node B reports Redis down')
    // REST on node B still works, socket sends too; each event is stored.
    const rest = await call(b.app, 'POST', `/v1/conversations/${conversation.id}/messages`, {
      token: seller.accessToken,
      body: { body: 'during the cut (REST)' },
    })
    t.equal(rest.statusCode, 201)
    const viaSocket = await request(sellerB.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'during the cut (socket)',
      clientId: 'c-1',
    })
    t.equal(viaSocket.ok, true)
    t.equal(
      (await call(b.app, 'GET', `/v1/conversations/${conversation.id}/messages?limit=5`, { token: seller.accessToken }))
        .json.items.length,
      3,
    )
    await sellerB.recorder.next('message:new', (m) => m.body === 'during the cut (socket)')
    // An event for the seller committed on node A: published there, unseen by node B for now.
    await anEvent(a.app, seller.id, 1)

    // Resync during the outage: a client that (re)connects with its lastSeq gets everything.
    const buyerBack = await connect(t, a, { token: buyer.accessToken, lastSeq: 1 })
    await buyerBack.recorder.next('message:new', (m) => m.body === 'during the cut (socket)')
    // The last event of the outage: the socket message's `message` notification (after its unread:updated).
    await buyerBack.recorder.next('notification:new', (n) => n.data?.messageId === viaSocket.data.id)
    t.same(
      buyerBack.recorder.of('message:new').map((r) => r.payload.data.body),
      ['during the cut (REST)', 'during the cut (socket)'],
    )
    // Node B could not ask whether the buyer was online, so it notified (better twice than never).
    const buyerLast = lastSeqOf(buyerBack.recorder)
    t.same(buyerBack.recorder.seqs(), range(2, buyerLast), 'contiguous')
    t.same(buyerA.recorder.seqs(), [1, 2], 'the buyer that stayed on node A has not seen them yet')

    proxy.restore()
    await until(() => b.realtime.link!.up, 'node B’s Redis link to return', 20_000)
    // Node B re-reads for its own clients, and asks node A to re-read for its clients: both
    // get what they missed without reconnecting.
    await until(() => lastSeqOf(buyerA.recorder) === buyerLast, 'the buyer on node A to catch up', 20_000)
    await sellerB.recorder.next('order:status', () => true, 20_000)
    t.same(buyerA.recorder.seqs(), range(1, buyerLast), 'the buyer on node A: nothing missed, nothing twice')
    t.same(sellerB.recorder.seqs(), range(1, lastSeqOf(sellerB.recorder)), 'the seller on node B too')
    t.same(
      sellerB.recorder.of('message:new').map((r) => r.payload.data.body),
      ['before the cut', 'during the cut (REST)', 'during the cut (socket)'],
    )

    // And live cross-node delivery is back.
    const after = await request(sellerB.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'after the restore',
      clientId: 'c-3',
    })
    await buyerA.recorder.next('message:new', (m) => m.id === after.data.id)
    await buyerA.recorder.next('unread:updated', (u) => u.messages === 4)
    t.same(
      buyerA.recorder.seqs(),
      range(1, buyerLast + 2),
      'live again, no notification: the buyer is known to be online',
    )
    // The app's own Redis client (rate limits) reconnects on its own schedule.
    await until(async () => (await call(b.app, 'GET', '/ready')).statusCode === 200, 'node B ready again', 20_000)
  },
)

void t.test('the classic (non-sharded) Redis adapter delivers across nodes too', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2, () => ({ realtime: { adapterMode: 'classic' } }))
  t.equal(a!.realtime.link!.mode, 'classic')
  const { buyer, seller, conversation } = await aConversation(a!.app)
  const buyerA = await connect(t, a!, { token: buyer.accessToken })
  const sellerB = await connect(t, b!, { token: seller.accessToken })
  const sent = await request(buyerA.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'classic',
    clientId: 'k-1',
  })
  await sellerB.recorder.next('message:new', (m) => m.id === sent.data.id)
  await request(sellerB.socket, 'typing', { conversationId: conversation.id, isTyping: true })
  await buyerA.recorder.next('typing')
  t.equal(
    Number(
      (await a!.app.db('notifications').where({ user_id: seller.id, type: 'message' }).count({ n: '*' }).first())?.n,
    ),
    0,
    'presence is asked across nodes too',
  )
})

void t.test('a node shutting down closes its sockets so that clients reconnect elsewhere and resync', async (t) => {
  const db = await testDatabase(t)
  const a = await startNode(t, db)
  const b = await startNode(t, db)
  const user = await aUser(a.app)
  const onB = await connect(t, b, { token: user.accessToken })
  const feedB = await openFeed(t, b, { token: user.accessToken })
  await anEvent(a.app, user.id, 1)
  await onB.recorder.next('order:status')
  let sessionEnded = false
  onB.socket.on('session:ended', () => (sessionEnded = true))
  const dropped = new Promise<string>((resolve) => onB.socket.on('disconnect', resolve))
  await b.app.close()
  t.equal(await dropped, 'transport close', 'a transport close: socket.io-client reconnects by itself')
  t.equal(sessionEnded, false)
  t.equal((await feedB.closed).code, 1012, 'the feed is told the server restarts')
  await anEvent(a.app, user.id, 2)
  const moved = await connect(t, a, { token: user.accessToken, lastSeq: lastSeqOf(onB.recorder) })
  await moved.recorder.next('order:status')
  t.same(moved.recorder.seqs(), [2])
})
