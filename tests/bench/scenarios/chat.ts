/**
 * Chat across two nodes: 2 000 sockets in conversations of two (the buyer on node A, the
 * seller on node B), a steady message rate, sender-to-recipient latency across nodes,
 * delivered messages/s and memory per 1 000 sockets; then the same traffic through a bare
 * Socket.IO echo with the Redis adapter as the reference.
 *
 * Each server and the load generator is its own child process (this file, by role), so the
 * load generator never shares a server's event loop. The runner imports this file for
 * `scenario`; with OJA_BENCH_ROLE set it is a child instead.
 *
 * Each runs at 300 msg/s and at the 1 000 msg/s flood (BENCH_CHAT_FLOOD_RATE); the rows say
 * whether issue 16's chat targets are met.
 *
 * Memory per 1 000 sockets is heapUsed after a GC (the servers run with --expose-gc), after
 * the connections against before them; the baseline is taken after a warm-up round of 50
 * connections, opened and closed, so that code compiled for the first connections is not
 * counted as per-socket memory (for Oja and the reference alike).
 *
 * Knobs: BENCH_CHAT_RATE (messages/s offered; 300, quick 200), BENCH_CHAT_ONLY=oja (skip the
 * reference), BENCH_PROFILE_ROLE=oja|bare|load (write V8 CPU profiles to /tmp/oja-prof).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import v8 from 'node:v8'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createShardedAdapter } from '@socket.io/redis-adapter'
import { Redis } from 'ioredis'
import { Server } from 'socket.io'
import { io as ioClient, type Socket as ClientSocket } from 'socket.io-client'
import type { BenchContext, BenchRow, Scenario } from '../lib.js'
import { percentile, postgresCpuMs } from '../lib.js'

const SELF = fileURLToPath(import.meta.url)
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-01'
/** Conversations whose sockets connect and close before the memory baseline (both servers alike). */
const WARMUP_PAIRS = 25

export type Pair = {
  buyerId: string
  sellerId: string
  buyerToken: string
  sellerToken: string
  conversationId: string
}
export type LoadPlan = {
  mode: 'oja' | 'bare'
  urls: [string, string]
  pairs: Pair[]
  rate: number
  warmupMs: number
  durationMs: number
}
type LoadResult = {
  sent: number
  totalSent: number
  acked: number
  failed: number
  /** Refused with an OVERLOADED ack (past capacity, told at once). */
  refused: number
  /** No answer within the client's 10 s timeout. */
  timedOut: number
  delivered: number
  latencies: number[]
  ackLatencies: number[]
  /** Send → any answer (stored or refused), every send of the window. */
  answerLatencies: number[]
  seconds: number
}
type Cpu = { user: number; system: number }
export type Mem = { heapUsed: number; rss: number }

// ---------------------------------------------------------------------------------------
// Children

async function memory(): Promise<Mem> {
  const gc = (globalThis as { gc?: () => void }).gc
  for (let i = 0; i < 3; i++) {
    gc?.()
    await new Promise((r) => setTimeout(r, 50))
  }
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, rss: m.rss }
}

function serveIpc(close: () => Promise<void>): void {
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'mem') void memory().then((m) => process.send!({ type: 'mem', ...m }))
    if (msg.type === 'cpu') process.send!({ type: 'cpu', ...process.cpuUsage() })
    if (msg.type === 'stop') void close().then(() => process.exit(0))
    // BENCH_HEAP_SNAPSHOTS=1: a heap snapshot before and after the sockets connect (/tmp/oja-prof), to see what a connection costs.
    if (msg.type === 'mem' && process.env.BENCH_HEAP_SNAPSHOTS === '1')
      v8.writeHeapSnapshot(
        `${process.env.BENCH_PROF_DIR ?? '/tmp/oja-prof'}/${process.env.OJA_BENCH_ROLE}-${process.pid}-${Date.now()}.heapsnapshot`,
      )
  })
}

async function ojaNode(): Promise<void> {
  const { loadConfig } = await import('../../../src/config.js')
  const { buildNode } = await import('../../../realtime/index.js')
  const config = loadConfig(
    {},
    {
      NODE_ENV: 'development',
      LOG_LEVEL: 'error',
      DATABASE_URL: process.env.BENCH_DATABASE_URL!,
      DATABASE_POOL_MAX: 10,
      REDIS_URL: process.env.BENCH_REDIS_URL!,
      REDIS_PREFIX: process.env.BENCH_PREFIX!,
      JWT_SECRET,
      MIGRATE_ON_START: false,
      SEED_DEMO: false,
      RATE_LIMIT_SCALE: 1,
      // Knobs for trying the overload settings (defaults otherwise).
      ...Object.fromEntries(
        ['ADMISSION_DB_QUEUE', 'ADMISSION_EVENT_LOOP_DELAY_MS', 'CHAT_SEND_QUEUE', 'CHAT_SEND_MAX_WAIT_MS']
          .filter((k) => process.env[`BENCH_${k}`] !== undefined)
          .map((k) => [k, Number(process.env[`BENCH_${k}`])]),
      ),
    },
  )
  const { app } = await buildNode(config, { background: false })
  await app.listen({ port: 0, host: '127.0.0.1' })
  serveIpc(() => app.close())
  process.send!({ type: 'ready', port: (app.server.address() as AddressInfo).port })
}

/** The reference: Socket.IO with the sharded Redis adapter, echoing each message to the conversation's room. */
async function bareNode(): Promise<void> {
  const pub = new Redis(process.env.BENCH_REDIS_URL!)
  const sub = pub.duplicate()
  const http = createServer()
  const io = new Server(http, {
    adapter: createShardedAdapter(pub, sub, { channelPrefix: `${process.env.BENCH_PREFIX}bare` }),
    serveClient: false,
  })
  io.on('connection', (socket) => {
    const { room } = socket.handshake.auth as { room: string }
    void socket.join(room)
    socket.on(
      'message:send',
      (payload: { conversationId: string; body: string; clientId: string }, ack: (r: unknown) => void) => {
        const message = {
          conversationId: payload.conversationId,
          body: payload.body,
          clientId: payload.clientId,
          createdAt: new Date().toISOString(),
        }
        socket.to(payload.conversationId).emit('message:new', { seq: 0, data: message })
        ack({ ok: true, data: message })
      },
    )
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  serveIpc(async () => {
    io.disconnectSockets(true)
    http.close()
    pub.disconnect()
    sub.disconnect()
  })
  process.send!({ type: 'ready', port: (http.address() as AddressInfo).port })
}

async function loadGenerator(): Promise<void> {
  const [plan] = (await once(process, 'message')) as [LoadPlan]
  const sockets: ClientSocket[] = []
  /** Sends not delivered yet: when, and whether in the measured window (counted wherever their answer lands). */
  const pending = new Map<string, { at: number; counted: boolean }>()
  let outstanding = 0
  const latencies: number[] = []
  const ackLatencies: number[] = []
  let measuring = false
  let sent = 0
  let totalSent = 0
  let acked = 0
  let failed = 0
  let refused = 0
  let timedOut = 0
  let delivered = 0
  const answerLatencies: number[] = []

  const open = (url: string, auth: Record<string, unknown>, self: string) =>
    new Promise<ClientSocket>((resolve, reject) => {
      const socket = ioClient(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth })
      socket.on('message:new', (payload: { data: { clientId: string | null } }) => {
        const id = payload.data.clientId
        if (!id || id.startsWith(self)) return // the sender's own devices get it too: not a delivery
        const p = pending.get(id)
        if (p === undefined) return
        pending.delete(id)
        if (p.counted) {
          latencies.push(performance.now() - p.at)
          delivered++
        }
      })
      socket.once('connect', () => resolve(socket))
      socket.once('connect_error', reject)
    })

  // Warm-up: a first few connections, closed again, before the servers' memory baseline, so
  // that code compiled and caches filled by the first connections (the same for Oja and the
  // reference) are not counted as memory per socket.
  const warm = await Promise.all(
    plan.pairs
      .slice(0, WARMUP_PAIRS)
      .flatMap((p) => [
        open(plan.urls[0], plan.mode === 'oja' ? { token: p.buyerToken } : { room: p.conversationId }, 'warm'),
        open(plan.urls[1], plan.mode === 'oja' ? { token: p.sellerToken } : { room: p.conversationId }, 'warm'),
      ]),
  )
  for (const s of warm) s.disconnect()
  await new Promise((r) => setTimeout(r, 1000))
  process.send!({ type: 'warmed' })
  await once(process, 'message')

  // Connect in bounded waves: 2 000 simultaneous handshakes would measure the handshake.
  const senders: { socket: ClientSocket; conversationId: string; tag: string }[] = []
  for (let i = 0; i < plan.pairs.length; i += 50) {
    await Promise.all(
      plan.pairs.slice(i, i + 50).map(async (p) => {
        const buyerAuth = plan.mode === 'oja' ? { token: p.buyerToken } : { room: p.conversationId }
        const sellerAuth = plan.mode === 'oja' ? { token: p.sellerToken } : { room: p.conversationId }
        const [buyer, seller] = await Promise.all([
          open(plan.urls[0], buyerAuth, `b${p.buyerId}`),
          open(plan.urls[1], sellerAuth, `s${p.sellerId}`),
        ])
        sockets.push(buyer, seller)
        senders.push(
          { socket: buyer, conversationId: p.conversationId, tag: `b${p.buyerId}` },
          { socket: seller, conversationId: p.conversationId, tag: `s${p.sellerId}` },
        )
      }),
    )
  }
  process.send!({ type: 'connected', sockets: sockets.length })
  await once(process, 'message')

  // A steady rate: every 10 ms, the messages due by now, from senders in turn (both sides of every conversation).
  let next = 0
  let n = 0
  // Each measurement reuses the conversations: a clientId of an earlier one would be a replay (stored once, not delivered again).
  const run = `${process.pid}`
  const started = performance.now()
  const send = () => {
    const s = senders[next++ % senders.length]!
    const clientId = `${s.tag}-${run}-${n++}`
    const at = performance.now()
    const counted = measuring
    pending.set(clientId, { at, counted })
    totalSent++
    if (counted) {
      sent++
      outstanding++
    }
    s.socket
      .timeout(10_000)
      .emit(
        'message:send',
        { conversationId: s.conversationId, body: `hello ${n}`, clientId },
        (err: Error | null, res: { ok: boolean; code?: string }) => {
          if (!counted) {
            if (err || !res?.ok) pending.delete(clientId)
            return
          }
          outstanding--
          answerLatencies.push(performance.now() - at)
          if (err || !res?.ok) {
            failed++
            if (err) timedOut++
            else if (res.code === 'OVERLOADED') refused++
            pending.delete(clientId)
            return
          }
          acked++
          ackLatencies.push(performance.now() - at)
        },
      )
  }
  await new Promise<void>((resolve) => {
    let due = 0
    let measuredFrom = 0
    const timer = setInterval(() => {
      const elapsed = performance.now() - started
      if (!measuring && elapsed >= plan.warmupMs) {
        measuring = true
        measuredFrom = performance.now()
      }
      if (elapsed >= plan.warmupMs + plan.durationMs) {
        clearInterval(timer)
        measuring = false
        ;(process as unknown as { measuredSeconds: number }).measuredSeconds = (performance.now() - measuredFrom) / 1000
        // Let every send of the window be answered (at most the 10 s timeout), then the last deliveries land.
        const settled = performance.now()
        const wait = setInterval(() => {
          if (outstanding === 0 || performance.now() - settled > 11_000) {
            clearInterval(wait)
            setTimeout(() => resolve(), 1000)
          }
        }, 50)
        return
      }
      const target = Math.floor((elapsed / 1000) * plan.rate)
      while (due < target) {
        due++
        send()
      }
    }, 10)
  })
  const result: LoadResult = {
    sent,
    totalSent,
    acked,
    failed,
    refused,
    timedOut,
    delivered,
    latencies,
    ackLatencies,
    answerLatencies,
    seconds: (process as unknown as { measuredSeconds: number }).measuredSeconds,
  }
  process.send!({ type: 'result', result })
  await once(process, 'message')
  for (const s of sockets) s.disconnect()
  process.exit(0)
}

// ---------------------------------------------------------------------------------------
// Parent

export function child(role: string, env: Record<string, string>): ChildProcess {
  const extra = role === process.env.BENCH_PROFILE_ROLE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/oja-prof'] : []
  return spawn(process.execPath, ['--expose-gc', '--max-old-space-size=2048', ...extra, '--import', 'tsx', SELF], {
    env: { ...process.env, ...env, OJA_BENCH_ROLE: role },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

export function ask<T>(proc: ChildProcess, type: string, message?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type: string }) => {
      if (msg.type !== type) return
      proc.off('message', onMessage)
      proc.off('exit', onExit)
      resolve(msg as T)
    }
    const onExit = (code: number) => reject(new Error(`child exited with ${code} while waiting for ${type}`))
    proc.on('message', onMessage)
    proc.once('exit', onExit)
    if (message !== undefined) proc.send(message as object)
  })
}

export async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null) return
  const exited = once(proc, 'exit')
  proc.send({ type: 'stop' })
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))])
  if (proc.exitCode === null) proc.kill('SIGKILL')
}

/** 2 000 users, 1 000 listings and 1 000 conversations in one go, with signed access tokens. */
export async function seed(dbUrl: string, pairs: number): Promise<Pair[]> {
  const { buildApp } = await import('../../../src/app.js')
  const { loadConfig } = await import('../../../src/config.js')
  const app = await buildApp(
    loadConfig(
      {},
      {
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: dbUrl,
        JWT_SECRET,
        MIGRATE_ON_START: false,
        SEED_DEMO: false,
      },
    ),
    { background: false, redis: null },
  )
  const db = app.db
  try {
    const users = (await db('users')
      .insert(
        Array.from({ length: pairs * 2 }, (_, i) => ({
          email: `bench-${i}@bench.oja`,
          name: `Bench ${i}`,
          password_hash: 'x',
        })),
      )
      .returning('id')) as { id: string }[]
    const sessions = (await db('sessions')
      .insert(users.map((u) => ({ user_id: u.id, expires_at: new Date(Date.now() + 86_400_000) })))
      .returning(['id', 'user_id'])) as { id: string; user_id: string }[]
    const category = (await db('categories').first('id')) as { id: string }
    const listings = (await db('listings')
      .insert(
        Array.from({ length: pairs }, (_, i) => ({
          seller_id: users[2 * i + 1]!.id,
          title: `Bench item ${i}`,
          type: 'sale',
          price: 10_000_00,
          condition: 'good',
          category_id: category.id,
          status: 'active',
          published_at: db.fn.now(),
        })),
      )
      .returning('id')) as { id: string }[]
    const conversations = (await db('conversations')
      .insert(
        listings.map((l, i) => ({ listing_id: l.id, buyer_id: users[2 * i]!.id, seller_id: users[2 * i + 1]!.id })),
      )
      .returning('id')) as { id: string }[]
    const token = (i: number) =>
      app.jwt.sign({ sub: sessions[i]!.user_id, sid: sessions[i]!.id, role: 'user' }, { expiresIn: 3600 } as never)
    return conversations.map((c, i) => ({
      buyerId: users[2 * i]!.id,
      sellerId: users[2 * i + 1]!.id,
      buyerToken: token(2 * i),
      sellerToken: token(2 * i + 1),
      conversationId: c.id,
    }))
  } finally {
    await app.close()
  }
}

async function measure(
  ctx: BenchContext,
  mode: 'oja' | 'bare',
  env: Record<string, string>,
  pairs: Pair[],
  rate: number,
  durationMs: number,
): Promise<{ load: LoadResult; memPer1000: Mem; sockets: number; cpuMsPerMessage: number; pgCpuMsPerMessage: number }> {
  const servers = [child(mode, env), child(mode, env)]
  try {
    const ports = await Promise.all(servers.map((s) => ask<{ port: number }>(s, 'ready')))
    const load = child('load', {})
    try {
      const plan: LoadPlan = {
        mode,
        urls: [`http://127.0.0.1:${ports[0]!.port}`, `http://127.0.0.1:${ports[1]!.port}`],
        pairs,
        rate,
        warmupMs: Math.min(3000, durationMs / 2),
        durationMs,
      }
      // The baseline after a warm-up round of connections (see loadGenerator), after a GC.
      await ask(load, 'warmed', plan)
      const before = await Promise.all(servers.map((s) => ask<Mem>(s, 'mem', { type: 'mem' })))
      const connected = await ask<{ sockets: number }>(load, 'connected', { type: 'connect' })
      const after = await Promise.all(servers.map((s) => ask<Mem>(s, 'mem', { type: 'mem' })))
      const perNode = connected.sockets / servers.length / 1000
      const memPer1000 = {
        heapUsed: after.reduce((a, m, i) => a + (m.heapUsed - before[i]!.heapUsed), 0) / servers.length / perNode,
        rss: after.reduce((a, m, i) => a + (m.rss - before[i]!.rss), 0) / servers.length / perNode,
      }
      ctx.log(`${mode}: ${connected.sockets} sockets connected; sending ${rate} msg/s for ${durationMs / 1000} s`)
      const cpu = () => Promise.all(servers.map((s) => ask<Cpu>(s, 'cpu', { type: 'cpu' })))
      const cpuBefore = await cpu()
      const pgBefore = postgresCpuMs()
      const { result } = await ask<{ result: LoadResult }>(load, 'result', { type: 'go' })
      const cpuAfter = await cpu()
      const pgMs = postgresCpuMs() - pgBefore
      load.send({ type: 'close' })
      // Server CPU (both nodes, user + system) per message sent, warm-up included: less sensitive
      // than latency to whatever else the machine is doing.
      const cpuMs =
        cpuAfter.reduce((a, c, i) => a + (c.user - cpuBefore[i]!.user + c.system - cpuBefore[i]!.system), 0) / 1000
      return {
        load: result,
        memPer1000,
        sockets: connected.sockets,
        cpuMsPerMessage: cpuMs / Math.max(1, result.totalSent),
        pgCpuMsPerMessage: pgMs / Math.max(1, result.totalSent),
      }
    } finally {
      if (load.exitCode === null) load.kill()
    }
  } finally {
    await Promise.all(servers.map(stop))
  }
}

type Measured = Awaited<ReturnType<typeof measure>>

const mb = (n: number) => (n / 2 ** 20).toFixed(1)
const summary = (m: Measured) => {
  const answered = m.load.answerLatencies
  return (
    `${m.sockets} sockets/2 nodes; sent ${m.load.sent}: stored ${m.load.acked} (${((100 * m.load.acked) / Math.max(1, m.load.sent)).toFixed(1)} %), ` +
    `refused OVERLOADED ${m.load.refused}, other errors ${m.load.failed - m.load.refused - m.load.timedOut}, no answer in 10 s ${m.load.timedOut}; ` +
    `answer p99 ${percentile(answered, 99).toFixed(0)} ms, max ${answered.length ? Math.max(...answered).toFixed(0) : '-'} ms; ` +
    `ack p50 ${percentile(m.load.ackLatencies, 50).toFixed(1)} ms p99 ${percentile(m.load.ackLatencies, 99).toFixed(1)} ms; ` +
    `CPU per msg: servers ${m.cpuMsPerMessage.toFixed(2)} ms, PostgreSQL ${m.pgCpuMsPerMessage.toFixed(2)} ms`
  )
}
const base = (variant: string, m: Measured, rate: number): BenchRow => ({
  scenario: `chat, ${rate} msg/s offered`,
  variant,
  rps: m.load.delivered / m.load.seconds,
  p50: percentile(m.load.latencies, 50),
  p95: percentile(m.load.latencies, 95),
  p99: percentile(m.load.latencies, 99),
  note: `delivered msgs/s cross-node; ${summary(m)}`,
})

/** Issue 16, target 1, judged from the measured figures. */
function chatRows(oja300: Measured, oja1000: Measured, refs: { r300?: Measured; r1000?: Measured }): BenchRow[] {
  const rows: BenchRow[] = []
  const low = base('oja', oja300, 300)
  const p99 = low.p99 ?? Infinity
  rows.push({
    ...low,
    target: 'p99 ≤ 50 ms; server CPU ≤ 1.5 ms/msg',
    met: p99 <= 50 && oja300.cpuMsPerMessage <= 1.5,
  })
  if (refs.r300) rows.push(base('reference', refs.r300, 300))
  const high = base('oja', oja1000, 1000)
  const answers = oja1000.load.answerLatencies
  const slowest = answers.length ? Math.max(...answers) : Infinity
  const allAnswered = answers.length === oja1000.load.sent && oja1000.load.timedOut === 0
  rows.push({
    ...high,
    target: `delivered ≥ at 300 (${(low.rps ?? 0).toFixed(0)}/s); every send answered ≤ 1 s`,
    met: (high.rps ?? 0) >= (low.rps ?? Infinity) && allAnswered && slowest <= 1000,
  })
  if (refs.r1000) rows.push(base('reference', refs.r1000, 1000))
  const heap = oja300.memPer1000.heapUsed / 2 ** 20
  rows.push({
    scenario: 'chat, memory per 1 000 sockets',
    variant: 'oja',
    target: 'heap ≤ 12 MB',
    met: heap <= 12,
    note: `heap ${mb(oja300.memPer1000.heapUsed)} MB, rss ${mb(oja300.memPer1000.rss)} MB${refs.r300 ? `; reference heap ${mb(refs.r300.memPer1000.heapUsed)} MB, rss ${mb(refs.r300.memPer1000.rss)} MB` : ''}`,
  })
  return rows
}

export const scenario: Scenario = {
  name: 'chat',
  order: 50,
  async run(ctx) {
    await import('../../setup/template.js')
    const { createTestDatabase, databaseUrl, dropTestDatabase } = await import('../../helpers/pg.js')
    const dbName = await createTestDatabase()
    const pairsCount = 1000
    const rate = Number(process.env.BENCH_CHAT_RATE ?? (ctx.quick ? 200 : 300))
    const durationMs = ctx.quick ? 6000 : 20_000
    try {
      ctx.log(`seeding ${pairsCount} conversations`)
      const pairs = await seed(databaseUrl(dbName), pairsCount)
      const env = {
        BENCH_DATABASE_URL: databaseUrl(dbName),
        BENCH_REDIS_URL: ctx.redisUrl,
        BENCH_PREFIX: `oja-bench:${dbName}:`,
      }
      const high = Number(process.env.BENCH_CHAT_FLOOD_RATE ?? 1000)
      const oja300 = await measure(ctx, 'oja', env, pairs, rate, durationMs)
      const oja1000 = await measure(ctx, 'oja', env, pairs, high, durationMs)
      if (process.env.BENCH_CHAT_ONLY === 'oja') return chatRows(oja300, oja1000, {})
      const r300 = await measure(ctx, 'bare', env, pairs, rate, durationMs)
      const r1000 = await measure(ctx, 'bare', env, pairs, high, durationMs)
      return chatRows(oja300, oja1000, { r300, r1000 })
    } finally {
      await dropTestDatabase(dbName)
    }
  },
}

const role = process.env.OJA_BENCH_ROLE
if (role === 'oja') await ojaNode()
else if (role === 'bare') await bareNode()
else if (role === 'load') await loadGenerator()
