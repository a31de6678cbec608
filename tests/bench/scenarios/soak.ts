/**
 * Soak (`npm run bench -- --soak`, 10 minutes; `--quick` 1 minute): one Oja server in its
 * own process under mixed traffic — browse, search and listing detail through autocannon,
 * checkouts at a steady rate against a loopback fake Paystack, and chat between socket
 * pairs. Reports errors, memory growth after warm-up, event-loop delay p99 (from a probe
 * preloaded into the server) and the most PostgreSQL connections the node held.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import jwt from '@fastify/jwt'
import Fastify from 'fastify'
import knexFactory from 'knex'
import { io as ioClient, type Socket } from 'socket.io-client'
import { FakePaystack } from '../../fakes/paystack.js'
import { createTestDatabase, databaseUrl, dropTestDatabase, withAdmin } from '../../helpers/pg.js'
import { percentile, type BenchContext, type BenchRow, type Scenario } from '../lib.js'

const JWT_SECRET = 'soak-secret-soak-secret-soak-secret-0123'
const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url))

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const minutes = ctx.quick ? 1 : 10
  const name = await createTestDatabase()
  const url = databaseUrl(name)
  const paystack = await FakePaystack.start()
  const db = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 4 } })
  const signer = Fastify()
  await signer.register(jwt, { secret: JWT_SECRET })
  await signer.ready()
  const sockets: Socket[] = []
  let child: ReturnType<typeof spawn> | undefined
  try {
    // Data: 2 000 listings with deep stock, 200 buyers with sessions, 50 chat pairs.
    const [seller] = (await db('users')
      .insert({ email: 'soak-seller@bench.oja', password_hash: 'x', name: 'Seller' })
      .returning('id')) as { id: string }[]
    const category = ((await db('categories').where('slug', 'sofas-chairs').first('id')) as { id: string }).id
    await db.raw(
      `insert into listings (seller_id, title, description, type, price, condition, category_id, quantity, status, city, state)
       select ?, (array['Grey sofa','Oak table','Standing fan','Baby cot','Office chair','Bookshelf'])[1 + g % 6] || ' ' || g,
              'Used, in good condition', 'sale', 10000 + g * 100, 'good', ?, 100000, 'active', 'Lagos', 'Lagos'
       from generate_series(1, 2000) g`,
      [seller!.id, category],
    )
    const listingIds = ((await db('listings').select('id')) as { id: string }[]).map((r) => r.id)
    const buyers = (await db('users')
      .insert(
        Array.from({ length: 200 }, (_, i) => ({
          email: `soak-${i}@bench.oja`,
          password_hash: 'x',
          name: `Buyer ${i}`,
        })),
      )
      .returning('id')) as { id: string }[]
    const sessions = (await db('sessions')
      .insert(buyers.map((b) => ({ user_id: b.id, expires_at: new Date(Date.now() + 86_400_000) })))
      .returning(['id', 'user_id'])) as { id: string; user_id: string }[]
    const tokens = sessions.map((s) => signer.jwt.sign({ sub: s.user_id, sid: s.id, role: 'user' }))
    const pairs = Array.from({ length: 50 }, (_, i) => ({ a: i * 2, b: i * 2 + 1 }))
    const conversations = (await db('conversations')
      .insert(
        pairs.map((p, i) => ({ listing_id: listingIds[i], buyer_id: buyers[p.a]!.id, seller_id: buyers[p.b]!.id })),
      )
      .returning('id')) as { id: string }[]
    await db('listings')
      .whereIn('id', listingIds.slice(0, 50))
      .update({ seller_id: db.raw('(select seller_id from conversations c where c.listing_id = listings.id)') })

    const port = await freePort()
    const base = `http://127.0.0.1:${port}`
    child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--import', root('tests/bench/soak-probe.ts'), root('src/server.ts')],
      {
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_OPTIONS')),
          NODE_ENV: 'test',
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: url,
          REDIS_URL: ctx.redisUrl,
          REDIS_PREFIX: `oja-soak:${name}:`,
          JWT_SECRET,
          MIGRATE_ON_START: 'false',
          SEED_DEMO: 'false',
          RATE_LIMIT_SCALE: '0',
          // 100 buyers check out again and again without paying: past the unpaid-checkout cap.
          CHECKOUT_MAX_UNPAID: '0',
          RESERVATION_MAX_SHARE_PERCENT: '0',
          LOG_LEVEL: 'error',
          PAYSTACK_SECRET_KEY: paystack.secretKey,
          PAYSTACK_BASE_URL: paystack.url,
          DATABASE_POOL_MAX: '10',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const probes: { t: number; rss: number; heapUsed: number; lagP99: number }[] = []
    let buffer = ''
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString()
      let nl: number
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl)
        buffer = buffer.slice(nl + 1)
        if (line.startsWith('{"probe"')) probes.push(JSON.parse(line) as (typeof probes)[number])
      }
    })
    for (let i = 0; i < 200; i++) {
      try {
        if ((await fetch(`${base}/health`)).ok) break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }

    // Chat: each pair on its own sockets; every message's arrival is checked.
    let chatSent = 0
    let chatDelivered = 0
    const chatLatency: number[] = []
    for (const p of pairs) {
      for (const who of [p.a, p.b]) {
        const socket = ioClient(base, { auth: { token: tokens[who]! }, transports: ['websocket'], forceNew: true })
        socket.on('message:new', (payload: { data: { senderId: string; body: string } }) => {
          if (payload.data.senderId !== buyers[who]!.id && payload.data.body.startsWith('t=')) {
            chatDelivered++
            chatLatency.push(Date.now() - Number(payload.data.body.slice(2)))
          }
        })
        sockets.push(socket)
      }
    }
    await Promise.all(
      sockets.map((s) => (s.connected ? Promise.resolve() : new Promise<void>((r) => s.once('connect', () => r())))),
    )

    const durationMs = minutes * 60_000
    const until = Date.now() + durationMs
    const chatLoop = (async () => {
      while (Date.now() < until) {
        const i = chatSent % pairs.length
        const sender = sockets[i * 2]!
        chatSent++
        sender.emit(
          'message:send',
          { conversationId: conversations[i]!.id, body: `t=${Date.now()}`, clientId: randomUUID() },
          () => {},
        )
        await new Promise((r) => setTimeout(r, 100)) // 10 messages/s
      }
    })()
    let checkouts = 0
    const checkoutFailures: string[] = []
    const checkoutLoop = (async () => {
      let n = 0
      while (Date.now() < until) {
        const who = 100 + (n % 100)
        const listingId = listingIds[100 + (n % 1900)]!
        n++
        const auth = { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' }
        const put = await fetch(`${base}/v1/cart/items/${listingId}`, {
          method: 'PUT',
          headers: auth,
          body: JSON.stringify({ quantity: 1 }),
        })
        const res = await fetch(`${base}/v1/checkout`, {
          method: 'POST',
          headers: { ...auth, 'idempotency-key': randomUUID() },
          body: JSON.stringify({
            address: {
              fullName: 'Soak Buyer',
              phone: '+2348012345678',
              line1: '1 Road',
              city: 'Ikeja',
              state: 'Lagos',
            },
          }),
        })
        if (put.status !== 200 || res.status !== 201) checkoutFailures.push(`${put.status}/${res.status}`)
        else checkouts++
        await fetch(`${base}/v1/cart`, { method: 'DELETE', headers: { authorization: auth.authorization } })
        await new Promise((r) => setTimeout(r, 200)) // about 4 checkouts/s
      }
    })()
    let maxConnections = 0
    const poolLoop = (async () => {
      while (Date.now() < until) {
        const n = await withAdmin(async (c) =>
          Number((await c.query('select count(*) from pg_stat_activity where datname = $1', [name])).rows[0].count),
        )
        maxConnections = Math.max(maxConnections, n - 1)
        await new Promise((r) => setTimeout(r, 2000))
      }
    })()
    const reads = await autocannon({
      url: base,
      connections: 16,
      pipelining: 1,
      duration: Math.round(durationMs / 1000),
      requests: [
        { method: 'GET', path: '/v1/listings?limit=20' },
        { method: 'GET', path: '/v1/listings?q=sofa&limit=20' },
        { method: 'GET', path: '/v1/listings?sort=price_asc&limit=20' },
        { method: 'GET', path: `/v1/listings/${listingIds[7]}` },
      ],
    })
    await Promise.all([chatLoop, checkoutLoop, poolLoop])
    await new Promise((r) => setTimeout(r, 1000))

    const warm = probes.filter((p) => p.t >= probes[0]!.t + 30_000)
    const first = warm[0] ?? probes[0]!
    const last = probes[probes.length - 1]!
    const growth = (last.rss - first.rss) / first.rss
    const lagP99 = percentile(
      (warm.length ? warm : probes).map((p) => p.lagP99),
      99,
    )
    const errors = reads.errors + reads.timeouts + reads.non2xx + checkoutFailures.length + (chatSent - chatDelivered)
    return [
      {
        scenario: `soak ${minutes} min: browse/search/detail`,
        variant: 'oja',
        rps: reads.requests.average,
        p50: reads.latency.p50,
        p99: reads.latency.p99,
        target: 'no error',
        note: `${reads.non2xx} non-2xx, ${reads.errors + reads.timeouts} errors`,
      },
      {
        scenario: `soak ${minutes} min: checkout`,
        variant: 'oja',
        rps: checkouts / (durationMs / 1000),
        target: 'no error',
        note: `${checkouts} paid-path checkouts, ${checkoutFailures.length} failed ${[...new Set(checkoutFailures)].join(' ')}`,
      },
      {
        scenario: `soak ${minutes} min: chat`,
        variant: 'oja',
        p50: percentile(chatLatency, 50),
        p99: percentile(chatLatency, 99),
        target: 'no loss',
        note: `${chatDelivered}/${chatSent} delivered`,
      },
      {
        scenario: `soak ${minutes} min: server health`,
        variant: 'oja',
        p99: lagP99,
        target: 'lag p99 ≤ 20 ms, memory ≤ +10 %, pool never exhausted',
        note: `event-loop p99 ${lagP99.toFixed(1)} ms; RSS ${(first.rss / 2 ** 20).toFixed(0)} → ${(last.rss / 2 ** 20).toFixed(0)} MiB (${(growth * 100).toFixed(1)} % after 30 s warm-up); max ${maxConnections}/10 PostgreSQL connections; ${errors} errors in all`,
      },
    ]
  } finally {
    for (const s of sockets) s.disconnect()
    if (child) {
      child.kill('SIGTERM')
      await new Promise((r) => child!.once('exit', r))
    }
    await signer.close()
    await db.destroy()
    await paystack.close()
    await dropTestDatabase(name)
  }
}

export const scenario: Scenario = { name: 'soak', order: 100, run }
