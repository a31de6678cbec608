import t from 'tap'
import { connect as netConnect } from 'node:net'
import { call } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { Writable } from 'node:stream'
import pino from 'pino'
import { connect, openFeed, request, startNode, startNodes } from './helpers/nodes.js'
import { testDatabase } from './helpers/app.js'

void t.test('the handshake: same rules as REST, a clear connect_error for every refusal', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1)
  const node = a!
  const user = await aUser(node.app)

  const refused = async (auth: Record<string, unknown>) => {
    const err = await connect(t, node, auth as { token: string }).then(
      () => t.fail('connected'),
      (e: Error & { data?: { code: string; status: number } }) => e,
    )
    return err as Error & { data: { code: string; status: number } }
  }
  const missing = await refused({})
  t.same(missing.data, { code: 'UNAUTHENTICATED', status: 401 })
  t.match(missing.message, /access token/)
  t.same((await refused({ token: 'not.a.jwt' })).data, { code: 'UNAUTHENTICATED', status: 401 })
  const forged = node.app.jwt.sign({ sub: user.id, sid: user.id, role: 'admin' }).slice(0, -4) + 'AAAA'
  t.same((await refused({ token: forged })).data.code, 'UNAUTHENTICATED', 'a bad signature')
  const session = await node.app.db('sessions').where('user_id', user.id).first('id')
  const expired = node.app.jwt.sign({ sub: user.id, sid: session.id, role: 'user' }, {
    expiresIn: 60,
    clockTimestamp: Date.now() - 3_600_000,
  } as never)
  t.same((await refused({ token: expired })).data, { code: 'TOKEN_EXPIRED', status: 401 })
  t.same((await refused({ token: user.accessToken, lastSeq: -1 })).data.code, 'VALIDATION_FAILED')
  t.same((await refused({ token: user.accessToken, lastSeq: 'abc' })).data.code, 'VALIDATION_FAILED')
  t.same(
    (await refused({ token: user.accessToken, lastSeq: 5 })).data,
    { code: 'LAST_SEQ_AHEAD', status: 409 },
    'a client ahead of the server',
  )

  const ok = await connect(t, node, { token: user.accessToken })
  t.ok(ok.socket.connected)
  ok.socket.disconnect()

  await call(node.app, 'POST', '/v1/auth/logout', { body: { refreshToken: user.refreshToken } })
  t.same(
    (await refused({ token: user.accessToken })).data,
    { code: 'SESSION_REVOKED', status: 401 },
    'a logged-out session, token still unexpired',
  )
  const banned = await aUser(node.app)
  await node.app.db('users').where('id', banned.id).update({ banned_at: node.app.db.fn.now() })
  t.same((await refused({ token: banned.accessToken })).data, { code: 'ACCOUNT_BANNED', status: 403 })
})

void t.test('both transports on one server: Socket.IO (websocket and long-polling) and the plain feed', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1)
  const node = a!
  const user = await aUser(node.app)
  const ws = await connect(t, node, { token: user.accessToken })
  const polling = await connect(t, node, { token: user.accessToken }, { transports: ['polling'] })
  const upgraded = await connect(t, node, { token: user.accessToken }, { transports: ['polling', 'websocket'] })
  const feed = await openFeed(t, node, { token: user.accessToken })
  const feedByHeader = await openFeed(t, node, {}, { authorization: `Bearer ${user.accessToken}` })
  await new Promise<void>((resolve) =>
    upgraded.socket.io.engine.transport.name === 'websocket'
      ? resolve()
      : upgraded.socket.io.engine.once('upgrade', () => resolve()),
  )
  t.equal(upgraded.socket.io.engine.transport.name, 'websocket', 'long-polling upgrades to websocket')
  t.equal(node.realtime.hub.count(user.id), 5)

  await node.app.spine.transaction({ db: node.app.db, log: node.app.log }, (tx) =>
    node.app.spine.append(tx, [
      { userId: user.id, event: 'order:status', data: { orderId: 'o-1', paymentStatus: 'paid', shipments: [] } },
    ]),
  )
  for (const [name, client] of [
    ['websocket', ws],
    ['polling', polling],
    ['upgraded', upgraded],
    ['feed', feed],
    ['feed (header)', feedByHeader],
  ] as const) {
    const got = await client.recorder.next('order:status')
    t.same(
      got.payload,
      { seq: 1, data: { orderId: 'o-1', paymentStatus: 'paid', shipments: [] } },
      `${name} receives {seq, data}`,
    )
  }
})

void t.test('the plain feed refuses like REST, and other upgrade paths are refused', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1)
  const node = a!
  const user = await aUser(node.app)
  const refusal = async (query: { token?: string; lastSeq?: number | string }) =>
    openFeed(t, node, query as { token?: string }).then(
      () => t.fail('opened'),
      (e: { status: number; body: { code: string } }) => e,
    )
  const none = (await refusal({})) as { status: number; body: { code: string } }
  t.equal(none.status, 401)
  t.equal(none.body.code, 'UNAUTHENTICATED')
  t.equal(((await refusal({ token: 'garbage' })) as { status: number }).status, 401)
  t.equal(((await refusal({ token: user.accessToken, lastSeq: 'x' })) as { status: number }).status, 400)
  t.equal(
    ((await refusal({ token: user.accessToken, lastSeq: 9 })) as { body: { code: string } }).body.code,
    'LAST_SEQ_AHEAD',
  )

  const plain = await fetch(`${node.url}/v1/stream?token=${user.accessToken}`)
  t.equal(plain.status, 426, 'a plain GET is told to upgrade')
  t.equal(((await plain.json()) as { code: string }).code, 'UPGRADE_REQUIRED')

  // An upgrade to any other path is answered 404 at once and the connection closed.
  const answer = await new Promise<string>((resolve) => {
    const port = Number(new URL(node.url).port)
    const sock = netConnect(port, '127.0.0.1', () =>
      sock.write(
        `GET /v1/me HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${Buffer.from('0123456789abcdef').toString('base64')}\r\n\r\n`,
      ),
    )
    let data = ''
    sock.on('data', (c) => (data += String(c)))
    sock.on('close', () => resolve(data))
  })
  t.match(answer, /^HTTP\/1\.1 404/)
  t.equal((await fetch(`${node.url}/health`)).status, 200, 'plain HTTP unaffected')
})

void t.test('an access token passed as ?token= never reaches the request log', async (t) => {
  const lines: string[] = []
  const logger = pino(
    { level: 'info' },
    new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
  )
  const node = await startNode(t, await testDatabase(t), { logger })
  const user = await aUser(node.app)
  const feed = await openFeed(t, node, { token: user.accessToken, lastSeq: 0 })
  await node.app.spine.transaction({ db: node.app.db, log: node.app.log }, (tx) =>
    node.app.spine.append(tx, [{ userId: user.id, event: 'order:status', data: { orderId: 'o' } }]),
  )
  await feed.recorder.next('order:status')
  const streamLines = lines.filter((l) => l.includes('/v1/stream'))
  t.ok(streamLines.length > 0, 'the upgrade request is logged')
  t.ok(
    streamLines.some((l) => l.includes('lastSeq=0')),
    'with the rest of its query',
  )
  t.notOk(
    lines.some((l) => l.includes(user.accessToken)),
    'but never the token',
  )
})

void t.test('a live connection lives as long as its access token, unless refreshed in-band', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1)
  const node = a!
  const [user, other] = [await aUser(node.app), await aUser(node.app)]
  const session = (await node.app.db('sessions').where('user_id', user.id).first('id')) as { id: string }
  const shortToken = (expiresIn = '3s') =>
    node.app.jwt.sign({ sub: user.id, sid: session.id, role: 'user' }, { expiresIn })
  const append = (n: number) =>
    node.app.spine.transaction({ db: node.app.db, log: node.app.log }, (tx) =>
      node.app.spine.append(tx, [
        {
          userId: user.id,
          event: 'order:status',
          data: { orderId: `o-${n}`, paymentStatus: 'pending', shipments: [] },
        },
      ]),
    )

  // Not refreshed: the transport closes at expiry (the client would reconnect with a fresh token).
  const lapsing = await connect(t, node, { token: shortToken() })
  const feed = await openFeed(t, node, { token: shortToken() })
  const reason = await new Promise<string>((resolve) => lapsing.socket.once('disconnect', resolve))
  t.equal(reason, 'transport close', 'cut at expiry, not with "io server disconnect" (the client may reconnect)')
  t.same(await feed.closed, { code: 4003, reason: 'token_expired' }, 'the feed says why')

  // Refreshed with a token of the same session: still there past the old expiry, still delivering.
  // (4 s of validity: the three refused refreshes and the good one must all land before it ends.)
  const keptToken = shortToken('4s')
  const keptUntil = node.app.jwt.decode<{ exp: number }>(keptToken)!.exp * 1000
  const kept = await connect(t, node, { token: keptToken })
  const refused = async (payload: unknown) =>
    (await request(kept.socket, 'auth:refresh', payload)) as { ok: boolean; code: string }
  t.match(await refused({ token: other.accessToken }), { ok: false, code: 'SESSION_MISMATCH' }, "another user's token")
  t.match(await refused({ token: 'not.a.jwt' }), { ok: false, code: 'UNAUTHENTICATED' })
  t.match(await refused({}), { ok: false, code: 'VALIDATION_FAILED' })
  const refreshed = await request(kept.socket, 'auth:refresh', { token: user.accessToken })
  t.equal(refreshed.ok, true)
  t.ok(Date.parse(refreshed.data.expiresAt) > Date.now() + 60_000, 'the new deadline is the new token’s')
  await new Promise((r) => setTimeout(r, keptUntil - Date.now() + 500))
  t.ok(kept.socket.connected, 'outlived the first token')
  await append(1)
  t.match((await kept.recorder.next('order:status')).payload.data, { orderId: 'o-1' })

  // A refresh does not resurrect a logged-out session.
  await call(node.app, 'POST', '/v1/auth/logout', { body: { refreshToken: user.refreshToken } })
  await new Promise<void>((resolve) =>
    kept.socket.connected ? kept.socket.once('disconnect', () => resolve()) : resolve(),
  )
  t.notOk(kept.socket.connected, 'logout still ends it')
})

void t.test('live connections per user are capped on each node (Socket.IO and the feed together)', async (t) => {
  const {
    nodes: [a],
  } = await startNodes(t, 1, () => ({ env: { LIVE_MAX_CONNECTIONS_PER_USER: 3 } }))
  const node = a!
  const [user, other] = [await aUser(node.app), await aUser(node.app)]
  const first = await connect(t, node, { token: user.accessToken })
  await connect(t, node, { token: user.accessToken })
  await openFeed(t, node, { token: user.accessToken })
  const refused = await connect(t, node, { token: user.accessToken }).then(
    () => t.fail('a fourth connection'),
    (e: Error & { data?: { code: string; status: number } }) => e.data,
  )
  t.same(refused, { code: 'TOO_MANY_CONNECTIONS', status: 429 })
  const feedRefused = (await openFeed(t, node, { token: user.accessToken }).then(
    () => ({ status: 101, body: undefined }),
    (e: Error & { status?: number; body?: { code: string } }) => e,
  )) as { status?: number; body?: { code: string } }
  t.equal(feedRefused.status, 429)
  t.equal(feedRefused.body?.code, 'TOO_MANY_CONNECTIONS')
  t.ok((await connect(t, node, { token: other.accessToken })).socket.connected, 'another user is not affected')

  // Closing one frees a place.
  first.socket.disconnect()
  await new Promise<void>((resolve) => {
    const poll = () => (node.realtime.hub.count(user.id) < 3 ? resolve() : setTimeout(poll, 20))
    poll()
  })
  t.ok((await connect(t, node, { token: user.accessToken })).socket.connected)
})
