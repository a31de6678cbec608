import t from 'tap'
import { GroupCommit, type ItemOutcome } from '../src/db/group-commit.js'
import { build, call, testDatabase } from './helpers/app.js'
import { connect, request, startNode } from './helpers/nodes.js'
import { aUser } from './factories/users.js'
import { aConversation, type ChatPair } from './factories/chat.js'

void t.test('group commit: one batch for what waited, one by one after a failed batch, own errors', async (t) => {
  const batches: number[][] = []
  let failNext = false
  const gc = new GroupCommit<number, number>(
    async (items) => {
      batches.push(items)
      await new Promise((r) => setTimeout(r, 20))
      if (failNext && items.length > 1) {
        failNext = false
        throw new Error('the whole batch failed')
      }
      if (items.includes(13) && items.length === 1) throw new Error('13 fails alone')
      return items.map((i): ItemOutcome<number> =>
        i % 10 === 7 ? { ok: false, error: new Error(`no ${i}`) } : { ok: true, value: i * 2 },
      )
    },
    { maxBatch: 5, maxInFlight: 1 },
  )
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => gc.submit(i)))
  t.same(
    batches.map((b) => b.length),
    [1, 5, 5, 1],
    'the first alone and at once; what waited meanwhile in batches of at most 5',
  )
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [0, 2, 4, 6, 8, 10, 12, 'no 7', 16, 18, 20, 22],
    'each item gets its own value or error, in order',
  )
  batches.length = 0
  failNext = true
  const again = await Promise.allSettled([gc.submit(1), gc.submit(13), gc.submit(3), gc.submit(4)])
  t.same(
    again.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [2, '13 fails alone', 6, 8],
    'a batch that fails as a whole is retried item by item: only the failing item fails',
  )
  t.same(
    batches.map((b) => b.length),
    [1, 3, 1, 1, 1],
    'the batch of three failed, then its items ran alone',
  )
  t.equal(gc.waiting, 0)

  // Past maxWaiting, refused at once with the given error; what was admitted is still answered.
  const bounded = new GroupCommit<number, number>(
    async (items) => {
      await new Promise((r) => setTimeout(r, 20))
      return items.map((i) => ({ ok: true, value: i }))
    },
    { maxBatch: 10, maxInFlight: 1, maxWaiting: 3, refuse: () => new Error('overloaded') },
  )
  const flood = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => bounded.submit(i)))
  t.same(
    flood.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [0, 1, 2, 3, 'overloaded', 'overloaded', 'overloaded', 'overloaded'],
    'one running and three waiting; the rest refused',
  )

  // Waited past maxWaitMs when its batch starts: refused, not stored late.
  const slow = new GroupCommit<number, number>(
    async (items) => {
      await new Promise((r) => setTimeout(r, 120))
      return items.map((i) => ({ ok: true, value: i }))
    },
    { maxBatch: 2, maxInFlight: 1, maxWaitMs: 100, refuse: () => new Error('too late') },
  )
  const queued = await Promise.allSettled(Array.from({ length: 3 }, (_, i) => slow.submit(i)))
  t.same(
    queued.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    [0, 'too late', 'too late'],
    'the two that waited 120 ms for the first batch were refused',
  )
})

void t.test('chat sends in parallel are group-committed with every send rule kept', async (t) => {
  const app = await build(t, { DATABASE_POOL_MAX: 5 })
  const pairs: ChatPair[] = []
  for (let i = 0; i < 10; i++) pairs.push(await aConversation(app, { message: `first ${i}` }))
  const [blocked, stranger] = [pairs[9]!, await aUser(app)]
  t.equal(
    (await call(app, 'PUT', `/v1/me/blocks/${blocked.buyer.id}`, { token: blocked.seller.accessToken })).statusCode,
    204,
  )
  // A message sent before, whose clientId the burst replays (the same body) and reuses (another body).
  const original = await call(app, 'POST', `/v1/conversations/${pairs[0]!.conversation.id}/messages`, {
    token: pairs[0]!.buyer.accessToken,
    body: { body: 'kept once', clientId: 'replayed' },
  })
  t.equal(original.statusCode, 201)

  let messageInserts = 0
  app.db.on('query', (q: { sql: string }) => {
    if (/insert into messages/i.test(q.sql)) messageInserts++
  })
  type Send = { pair: ChatPair; from: 'buyer' | 'seller'; body: string; clientId?: string; expect: number }
  const sends: Send[] = []
  for (let round = 0; round < 15; round++)
    for (const pair of pairs.slice(0, 9))
      for (const from of ['buyer', 'seller'] as const)
        sends.push({ pair, from, body: `${from} ${round}`, clientId: `${from}-${round}`, expect: 201 })
  // The same clientId twice in the burst, by the same sender: one message, two answers.
  sends.push({ pair: pairs[1]!, from: 'buyer', body: 'twice', clientId: 'dup', expect: 201 })
  sends.push({ pair: pairs[1]!, from: 'buyer', body: 'twice', clientId: 'dup', expect: 201 })
  sends.push({ pair: pairs[0]!, from: 'buyer', body: 'kept once', clientId: 'replayed', expect: 200 })
  sends.push({ pair: pairs[0]!, from: 'buyer', body: 'another body', clientId: 'replayed', expect: 409 })
  sends.push({ pair: blocked, from: 'buyer', body: 'blocked', expect: 403 })
  const order = sends.map((s, i) => ({ s, i })).sort((a, b) => ((a.i * 7919) % 277) - ((b.i * 7919) % 277))

  const answers = await Promise.all(
    order.map(async ({ s }) => ({
      s,
      res: await call(app, 'POST', `/v1/conversations/${s.pair.conversation.id}/messages`, {
        token: s.pair[s.from].accessToken,
        body: { body: s.body, ...(s.clientId ? { clientId: s.clientId } : {}) },
      }),
    })),
  )
  const strangerRes = await call(app, 'POST', `/v1/conversations/${pairs[2]!.conversation.id}/messages`, {
    token: stranger.accessToken,
    body: { body: 'not mine' },
  })
  t.equal(strangerRes.statusCode, 404, 'a non-participant: 404')
  t.equal(strangerRes.json.code, 'CONVERSATION_NOT_FOUND')

  const wrong = answers.filter(({ s, res }) => {
    if (s.clientId === 'dup') return ![200, 201].includes(res.statusCode)
    return res.statusCode !== s.expect
  })
  t.same(
    wrong.map(({ s, res }) => `${s.body}: ${res.statusCode} ${res.json.code ?? ''}`),
    [],
    'every send answered as it would be alone',
  )
  const dup = answers.filter(({ s }) => s.clientId === 'dup').map(({ res }) => res)
  t.same(
    dup.map((r) => r.statusCode).sort(),
    [200, 201],
    'the same clientId twice: stored once, the other answered 200',
  )
  t.equal(dup[0]!.json.id, dup[1]!.json.id, 'both answers are the one message')
  t.equal(
    answers.find(({ s }) => s.clientId === 'replayed' && s.expect === 200)!.res.json.id,
    original.json.id,
    'a replay answers the original',
  )
  t.equal(answers.find(({ s }) => s.expect === 409)!.res.json.code, 'CLIENT_ID_REUSED')
  t.equal(answers.find(({ s }) => s.expect === 403)!.res.json.code, 'BLOCKED')
  t.ok(
    messageInserts < answers.length / 2,
    `sends were group-committed: ${messageInserts} message inserts for ${answers.length} sends`,
  )

  // Stored exactly once each, in strictly increasing time per conversation, the answers' times.
  const stored = (await app.db('messages').orderBy(['conversation_id', 'created_at', 'id']).select('*')) as {
    id: string
    conversation_id: string
    created_at: Date
    client_id: string | null
  }[]
  const created = answers.filter(({ res }) => res.statusCode === 201)
  t.equal(
    stored.length,
    pairs.length + 1 + new Set(created.map(({ res }) => res.json.id)).size,
    'the first messages, the original, and one row per stored send',
  )
  let increasing = true
  for (let i = 1; i < stored.length; i++) {
    const [a, b] = [stored[i - 1]!, stored[i]!]
    if (a.conversation_id === b.conversation_id && a.created_at.getTime() >= b.created_at.getTime()) increasing = false
  }
  t.ok(increasing, 'created_at strictly increases within every conversation')
  const storedById = new Map(stored.map((m) => [m.id, m]))
  t.ok(
    created.every(({ res }) => storedById.get(res.json.id)?.created_at.toISOString() === res.json.createdAt),
    'each answer carries its stored time',
  )
  const lastByConversation = (await app.db('conversations').select('id', 'last_message_at')) as {
    id: string
    last_message_at: Date
  }[]
  t.ok(
    lastByConversation.every(
      (c) =>
        c.last_message_at.getTime() ===
        Math.max(...stored.filter((m) => m.conversation_id === c.id).map((m) => m.created_at.getTime())),
    ),
    'each conversation’s last_message_at is its newest message',
  )

  // Both participants have exactly one message:new per stored message, and every user's seqs are gap-free.
  const events = (await app.db('user_events').where('event', 'message:new').select('user_id', 'data')) as {
    user_id: string
    data: { id: string }
  }[]
  const perMessage = new Map<string, number>()
  for (const e of events) perMessage.set(e.data.id, (perMessage.get(e.data.id) ?? 0) + 1)
  t.ok(
    stored.every((m) => perMessage.get(m.id) === 2) && perMessage.size === stored.length,
    'two message:new per stored message (buyer and seller), none for a refused send',
  )
  const gaps = (
    await app.db.raw<{ rows: { user_id: string }[] }>(
      `select user_id from user_events group by user_id having max(seq) <> count(*) or min(seq) <> 1`,
    )
  ).rows
  t.same(gaps, [], 'seq is gap-free per user')
  const unread = (await call(app, 'GET', '/v1/conversations', { token: pairs[3]!.seller.accessToken })).json
  t.equal(unread.items[0].unreadCount, 16, 'the seller of a conversation has the first message and 15 sends unread')
})

void t.test(
  'a socket send on a session that ended (the node not told yet) is refused and the connection ended',
  async (t) => {
    const node = await startNode(t, await testDatabase(t))
    const app = node.app
    const { buyer, seller, conversation } = await aConversation(app)
    const buyerLive = await connect(t, node, { token: buyer.accessToken })
    const sellerLive = await connect(t, node, { token: seller.accessToken })
    const ok = await request(buyerLive.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'one',
      clientId: 'c1',
    })
    t.equal(ok.ok, true)

    // Revoked and banned behind the nodes' backs (no disconnect broadcast), as a race would leave it.
    const ended = new Promise<{ reason: string; code: string }>((resolve) =>
      buyerLive.socket.on('session:ended', resolve),
    )
    await app
      .db('sessions')
      .where('user_id', buyer.id)
      .update({ revoked_at: app.db.fn.now(), revoked_reason: 'logout' })
    const refused = await request(buyerLive.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'after logout',
      clientId: 'c2',
    })
    t.match(refused, { ok: false, code: 'SESSION_REVOKED' })
    t.same(await ended, { reason: 'logout', code: 'SESSION_REVOKED' }, 'the connection is ended with the reason')

    const sellerEnded = new Promise<{ reason: string }>((resolve) => sellerLive.socket.on('session:ended', resolve))
    await app.db('users').where('id', seller.id).update({ banned_at: app.db.fn.now() })
    const banned = await request(sellerLive.socket, 'message:send', {
      conversationId: conversation.id,
      body: 'while banned',
      clientId: 'c3',
    })
    t.match(banned, { ok: false, code: 'ACCOUNT_BANNED' })
    t.equal((await sellerEnded).reason, 'banned')
    t.same(
      (await app.db('messages').where('conversation_id', conversation.id).pluck('body')) as string[],
      ['one'],
      'nothing sent on an ended session was stored',
    )
  },
)
