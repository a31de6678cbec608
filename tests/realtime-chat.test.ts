import t from 'tap'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { aConversation, anOffer } from './factories/chat.js'
import { connect, openFeed, request, startNodes } from './helpers/nodes.js'

void t.test('chat across two nodes: send, every device, read receipts, typing, duplicates', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const { buyer, seller, conversation } = await aConversation(a!.app)
  const outsider = await aUser(a!.app)
  const buyerA = await connect(t, a!, { token: buyer.accessToken })
  const sellerB = await connect(t, b!, { token: seller.accessToken })
  const sellerPhoneA = await connect(t, a!, { token: seller.accessToken })
  const sellerFeedB = await openFeed(t, b!, { token: seller.accessToken })
  const outsiderB = await connect(t, b!, { token: outsider.accessToken })

  const ack = await request(buyerA.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'Is the sofa still available?',
    clientId: 'm-1',
  })
  t.equal(ack.ok, true)
  t.match(ack.data, {
    conversationId: conversation.id,
    senderId: buyer.id,
    kind: 'text',
    body: 'Is the sofa still available?',
    clientId: 'm-1',
  })
  for (const [name, client] of [
    ['seller on node B', sellerB],
    ['seller’s phone on node A', sellerPhoneA],
    ['seller’s feed on node B', sellerFeedB],
    ['the sender’s own socket', buyerA],
  ] as const) {
    const got = await client.recorder.next('message:new', (m) => m.id === ack.data.id)
    t.same(got.payload.data, ack.data, `${name} gets message:new`)
    t.type(got.payload.seq, 'number')
  }

  // A resend with the same clientId is the same message, delivered once.
  const resend = await request(buyerA.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'Is the sofa still available?',
    clientId: 'm-1',
  })
  t.same(resend, ack, 'the resend acks the original')
  const second = await request(buyerA.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'I can pick it up today',
    clientId: 'm-2',
  })
  await sellerB.recorder.next('message:new', (m) => m.id === second.data.id)
  await sellerFeedB.recorder.next('message:new', (m) => m.id === second.data.id)
  t.equal(sellerB.recorder.of('message:new').length, 2, 'two messages, no duplicate')
  // Each message to the seller moves their unread counts: `unread:updated` follows it, in the same commit.
  await sellerB.recorder.next('unread:updated', (u) => u.messages === 2)
  await sellerFeedB.recorder.next('unread:updated', (u) => u.messages === 2)
  t.same(
    sellerB.recorder.received.filter((r) => r.payload.seq).map((r) => [r.payload.seq, r.event]),
    [
      [1, 'message:new'],
      [2, 'unread:updated'],
      [3, 'message:new'],
      [4, 'unread:updated'],
    ],
    'seqs in order, no gap',
  )
  t.same(sellerFeedB.recorder.seqs(), [1, 2, 3, 4], 'the feed sees the same seqs')

  // The seller reads on node B; the buyer on node A gets the receipt.
  const read = await request(sellerB.socket, 'conversation:read', {
    conversationId: conversation.id,
    upToMessageId: second.data.id,
  })
  t.match(read, {
    ok: true,
    data: { conversationId: conversation.id, userId: seller.id, upToMessageId: second.data.id, unreadCount: 0 },
  })
  const receipt = await buyerA.recorder.next('message:read')
  t.same(receipt.payload.data, {
    conversationId: conversation.id,
    userId: seller.id,
    upToMessageId: second.data.id,
    readAt: read.data.readAt,
  })
  await sellerPhoneA.recorder.next('message:read', (r) => r.upToMessageId === second.data.id)

  // Typing reaches the other participant's devices only, and is not stored.
  const typing = await request(buyerA.socket, 'typing', { conversationId: conversation.id, isTyping: true })
  t.same(typing, { ok: true, data: { delivered: true } })
  const seen = await sellerB.recorder.next('typing')
  t.same(
    seen.payload,
    { data: { conversationId: conversation.id, userId: buyer.id, isTyping: true } },
    'typing carries no seq',
  )
  await sellerPhoneA.recorder.next('typing')
  const feedTyping = await sellerFeedB.recorder.next('typing')
  t.same(feedTyping.payload, { data: { conversationId: conversation.id, userId: buyer.id, isTyping: true } })
  // A later message is a barrier: had typing gone to the buyer or the outsider, it would be here first.
  const third = await request(sellerB.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'Yes, come at 5',
    clientId: 's-1',
  })
  await buyerA.recorder.next('message:new', (m) => m.id === third.data.id)
  t.equal(buyerA.recorder.of('typing').length, 0, 'the typist does not get its own indicator')
  t.equal(outsiderB.recorder.received.length, 0, 'the outsider got nothing at all')
  t.equal(
    await b!.app
      .db('user_events')
      .where('event', 'typing')
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    0,
    'typing is never stored',
  )

  // An outsider cannot send, read or type into the conversation.
  for (const [event, payload] of [
    ['message:send', { conversationId: conversation.id, body: 'let me in', clientId: 'x-1' }],
    ['conversation:read', { conversationId: conversation.id, upToMessageId: ack.data.id }],
    ['typing', { conversationId: conversation.id, isTyping: true }],
  ] as const) {
    const res = await request(outsiderB.socket, event, payload)
    t.same(res, { ok: false, code: 'CONVERSATION_NOT_FOUND', message: 'Conversation not found' }, `outsider ${event}`)
  }
  t.equal(
    await a!.app
      .db('messages')
      .where('conversation_id', conversation.id)
      .count({ n: '*' })
      .first()
      .then((r) => Number(r?.n)),
    3,
  )

  // Malformed requests get the REST validation answer.
  const bad = await request(buyerA.socket, 'message:send', { conversationId: 'nope', body: '', extra: 1 })
  t.equal(bad.ok, false)
  t.equal(bad.code, 'VALIDATION_FAILED')
  t.ok(bad.errors.some((e: { path: string }) => e.path.startsWith('/payload')))
  t.equal(
    (await request(buyerA.socket, 'message:send', { conversationId: conversation.id, body: 'no client id' })).code,
    'VALIDATION_FAILED',
    'the socket needs a clientId',
  )
  t.equal(
    (
      await request(buyerA.socket, 'message:send', {
        conversationId: conversation.id,
        body: 'x'.repeat(4001),
        clientId: 'long',
      })
    ).code,
    'VALIDATION_FAILED',
  )
  t.equal(
    (
      await request(buyerA.socket, 'message:send', {
        conversationId: conversation.id,
        body: 'different',
        clientId: 'm-1',
      })
    ).code,
    'CLIENT_ID_REUSED',
  )

  // Blocked users cannot message or type to each other, whichever side blocked.
  t.equal(
    (await call(b!.app, 'PUT', `/v1/me/blocks/${buyer.id}`, { token: seller.accessToken })).statusCode < 300,
    true,
  )
  t.match(
    await request(buyerA.socket, 'message:send', { conversationId: conversation.id, body: 'hello?', clientId: 'm-3' }),
    { ok: false, code: 'BLOCKED' },
  )
  t.match(
    await request(sellerB.socket, 'message:send', { conversationId: conversation.id, body: 'hello?', clientId: 's-2' }),
    { ok: false, code: 'BLOCKED' },
  )
  t.match(await request(buyerA.socket, 'typing', { conversationId: conversation.id, isTyping: false }), {
    ok: false,
    code: 'BLOCKED',
  })
})

void t.test('a `message` notification only when the recipient has no live connection on any node', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const { buyer, seller, conversation } = await aConversation(a!.app)
  const buyerA = await connect(t, a!, { token: buyer.accessToken })
  const messageNotes = async () =>
    Number(
      (await a!.app.db('notifications').where({ user_id: seller.id, type: 'message' }).count({ n: '*' }).first())?.n,
    )

  const sellerB = await connect(t, b!, { token: seller.accessToken })
  await request(buyerA.socket, 'message:send', { conversationId: conversation.id, body: 'one', clientId: 'n-1' })
  t.equal(await messageNotes(), 0, 'online on the other node: no notification')
  sellerB.socket.disconnect()
  await new Promise<void>((resolve) => {
    const poll = () => (b!.realtime.hub.count(seller.id) === 0 ? resolve() : setTimeout(poll, 10))
    poll()
  })

  const feedB = await openFeed(t, b!, { token: seller.accessToken })
  await request(buyerA.socket, 'message:send', { conversationId: conversation.id, body: 'two', clientId: 'n-2' })
  t.equal(await messageNotes(), 0, 'a plain feed on the other node counts as online')
  feedB.ws.close()
  await feedB.closed
  await new Promise<void>((resolve) => {
    const poll = () => (b!.realtime.hub.count(seller.id) === 0 ? resolve() : setTimeout(poll, 10))
    poll()
  })

  const sent = await request(buyerA.socket, 'message:send', {
    conversationId: conversation.id,
    body: 'three',
    clientId: 'n-3',
  })
  t.equal(await messageNotes(), 1, 'offline everywhere: notified')
  // When the seller comes back with its lastSeq, the notification is among what it missed
  // (each message was followed by the seller's `unread:updated`).
  const back = await connect(t, b!, { token: seller.accessToken, lastSeq: 4 })
  const note = await back.recorder.next('notification:new')
  t.match(note.payload.data, { type: 'message', data: { conversationId: conversation.id, messageId: sent.data.id } })
  await back.recorder.next('message:new', (m) => m.id === sent.data.id)
  t.same(
    back.recorder.received.filter((r) => r.payload.seq).map((r) => [r.payload.seq, r.event]),
    [
      [5, 'message:new'],
      [6, 'unread:updated'],
      [7, 'notification:new'],
    ],
    'exactly what was missed, in order',
  )
})

void t.test('sends over the socket share the per-user rate limit', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2, () => ({ env: { RATE_LIMIT_SCALE: 0.25 } }))
  const { buyer, conversation } = await aConversation(a!.app)
  const onA = await connect(t, a!, { token: buyer.accessToken })
  const onB = await connect(t, b!, { token: buyer.accessToken })
  const acks = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      request(i % 2 ? onA.socket : onB.socket, 'message:send', {
        conversationId: conversation.id,
        body: `m${i}`,
        clientId: `r-${i}`,
      }),
    ),
  )
  t.equal(acks.filter((x) => x.ok).length, 5, 'five of eight, counted across both nodes (Redis)')
  const limited = acks.find((x) => !x.ok)
  t.equal(limited.code, 'RATE_LIMITED')
  t.ok(limited.retryAfter >= 1)
})

void t.test('offers end to end across nodes: offer, counter, accept, into the cart', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2)
  const { buyer, seller, listing, conversation } = await aConversation(a!.app)
  const buyerA = await connect(t, a!, { token: buyer.accessToken })
  const sellerB = await connect(t, b!, { token: seller.accessToken })

  const offer = await anOffer(a!.app, buyer, conversation.id, 210_000_00)
  const offerSeen = await sellerB.recorder.next('offer:updated', (o) => o.id === offer.id)
  t.same(offerSeen.payload.data, offer)
  const asMessage = await sellerB.recorder.next('message:new', (m) => m.kind === 'offer')
  t.match(asMessage.payload.data, { offer: { id: offer.id, status: 'pending' }, senderId: buyer.id })
  await sellerB.recorder.next('notification:new', (n) => n.type === 'offer')

  const counter = await call(b!.app, 'POST', `/v1/offers/${offer.id}/counter`, {
    token: seller.accessToken,
    body: { amount: 225_000_00 },
  })
  t.equal(counter.statusCode, 201)
  await buyerA.recorder.next('offer:updated', (o) => o.id === offer.id && o.status === 'countered')
  await buyerA.recorder.next('offer:updated', (o) => o.id === counter.json.id && o.status === 'pending')
  await buyerA.recorder.next('message:new', (m) => m.offer?.id === counter.json.id)

  const accepted = await call(a!.app, 'POST', `/v1/offers/${counter.json.id}/accept`, { token: buyer.accessToken })
  t.equal(accepted.json.status, 'accepted')
  const sellerSees = await sellerB.recorder.next(
    'offer:updated',
    (o) => o.id === counter.json.id && o.status === 'accepted',
  )
  t.equal(sellerSees.payload.data.expiresAt, accepted.json.expiresAt)
  await buyerA.recorder.next('offer:updated', (o) => o.status === 'accepted')
  t.same(
    sellerB.recorder.seqs(),
    [...sellerB.recorder.seqs()].sort((x, y) => x - y),
    'in seq order',
  )

  await call(a!.app, 'PUT', `/v1/cart/items/${listing.id}`, { token: buyer.accessToken, body: { quantity: 1 } })
  const cart = await call(b!.app, 'GET', '/v1/cart', { token: buyer.accessToken })
  t.match(cart.json.items[0], { listingId: listing.id, currentPrice: 225_000_00, offerId: counter.json.id })
})

void t.test(
  'presence asked about several users in one tick is one question to the other nodes, answered per user',
  async (t) => {
    const {
      nodes: [a, b],
    } = await startNodes(t, 2)
    const [onB, away, feedOnB] = await Promise.all([aUser(a!.app), aUser(a!.app), aUser(a!.app)])
    await connect(t, b!, { token: onB.accessToken })
    await openFeed(t, b!, { token: feedOnB.accessToken })
    const adapter = a!.realtime.io.of('/').adapter
    const emit = adapter.serverSideEmit.bind(adapter)
    const asked: unknown[][] = []
    adapter.serverSideEmit = (packet: unknown[]) => {
      asked.push(packet)
      return emit(packet)
    }
    t.teardown(() => {
      adapter.serverSideEmit = emit
    })
    const { isOnline } = a!.realtime.relay.presence
    const answers = await Promise.all([away.id, onB.id, feedOnB.id, onB.id].map((id) => isOnline(id)))
    t.same(answers, [false, true, true, true], 'each user gets their own answer, a user asked twice both')
    const questions = asked.filter((p) => String(p[0]).startsWith('oja:presence'))
    t.equal(questions.length, 1, 'one question for the tick')
    t.same(questions[0]?.[1], [away.id, onB.id, feedOnB.id], 'every user once, in the order asked')
    t.same(await isOnline(away.id), false, 'a later tick asks again')
  },
)
