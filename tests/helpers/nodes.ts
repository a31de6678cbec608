import { createServer, Socket as NetSocket, type Server as NetServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { io as ioClient, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from 'socket.io-client'
import WebSocket from 'ws'
import type { BuildOptions, OjaApp } from '../../src/app.js'
import type { Env } from '../../src/config.js'
import { buildNode, type Realtime, type RealtimeOptions } from '../../realtime/index.js'
import type { ClientToServerEvents, FeedFrame, ServerToClientEvents } from '../../realtime/protocol.js'
import { testConfig, testDatabase, type LooseDb, type TestDb } from './app.js'
import { TEST_REDIS_URL } from './pg.js'

export type Node = { app: Omit<OjaApp, 'db'> & { db: LooseDb }; url: string; realtime: Realtime }
export type NodeOptions = { env?: Partial<Env>; realtime?: RealtimeOptions; logger?: BuildOptions['logger'] }

/**
 * One real node: buildNode + listen on port 0, on a shared test database.
 * Every node of a test shares the database's Redis key prefix (and so its adapter
 * channels), which no other test uses.
 */
export async function startNode(t: Test, db: TestDb, opts: NodeOptions = {}): Promise<Node> {
  const { app, realtime } = await buildNode(
    testConfig(db, { DATABASE_POOL_MAX: 8, ...opts.env }),
    { background: false, ...(opts.logger ? { logger: opts.logger } : {}) },
    opts.realtime,
  )
  // On a busy machine Redis may answer late: start only once this node hears the others.
  if (realtime.link && !(await realtime.link.subscribed(15_000)))
    throw new Error('the realtime Redis link did not come up')
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const { port } = app.server.address() as AddressInfo
  return { app: app as Node['app'], url: `http://127.0.0.1:${port}`, realtime }
}

/** `count` nodes on one fresh database and one Redis, as behind a load balancer. */
export async function startNodes(
  t: Test,
  count = 2,
  perNode: (i: number) => NodeOptions = () => ({}),
): Promise<{ db: TestDb; nodes: Node[] }> {
  const db = await testDatabase(t)
  const nodes: Node[] = []
  for (let i = 0; i < count; i++) nodes.push(await startNode(t, db, perNode(i)))
  return { db, nodes }
}

export type LiveSocket = ClientSocket<ServerToClientEvents, ClientToServerEvents>
export type Received = { event: string; payload: { seq?: number; data: any } } // eslint-disable-line @typescript-eslint/no-explicit-any

/** Everything a client received, with a way to wait for what has not come yet. */
export class Recorder {
  readonly received: Received[] = []
  private waiters: { test: (r: Received) => boolean; resolve: (r: Received) => void }[] = []

  add(r: Received): void {
    this.received.push(r)
    this.waiters = this.waiters.filter((w) => (w.test(r) ? (w.resolve(r), false) : true))
  }

  /** Resolves with the first matching item, already received or still to come (fails after `ms`). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  next(event: string, where: (data: any) => boolean = () => true, ms = 10_000): Promise<Received> {
    const test = (r: Received) => r.event === event && where(r.payload.data)
    const seen = this.received.find(test)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no ${event} within ${ms} ms; got ${JSON.stringify(this.received.map((r) => r.event))}`)),
        ms,
      )
      this.waiters.push({ test, resolve: (r) => (clearTimeout(timer), resolve(r)) })
    })
  }

  /** The seqs of stored events received, in arrival order. */
  seqs(): number[] {
    return this.received.filter((r) => typeof r.payload.seq === 'number').map((r) => r.payload.seq!)
  }

  of(event: string): Received[] {
    return this.received.filter((r) => r.event === event)
  }
}

export type Client = { socket: LiveSocket; recorder: Recorder }

/**
 * A real socket.io-client connected to a node; resolves once connected, rejects with the
 * `connect_error`. The recorder is attached before connecting, so catch-up events count.
 */
export function connect(
  t: Test,
  node: Node,
  auth: { token: string; lastSeq?: number } | (() => { token: string; lastSeq?: number }),
  opts: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Client> {
  const recorder = new Recorder()
  const socket: LiveSocket = ioClient(node.url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: typeof auth === 'function' ? (cb) => cb(auth()) : auth,
    ...opts,
  })
  socket.onAny((event: string, payload: Received['payload']) => recorder.add({ event, payload }))
  t.teardown(() => void socket.disconnect())
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, recorder }))
    socket.once('connect_error', (err) => {
      socket.disconnect()
      reject(err)
    })
  })
}

/** Emits a request event and resolves with its ack. */
export function request<E extends keyof ClientToServerEvents>(
  socket: LiveSocket,
  event: E,
  payload: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<any> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 10_000)
    ;(socket as unknown as { emit(e: string, p: unknown, ack: (r: unknown) => void): void }).emit(
      event,
      payload,
      (res) => {
        clearTimeout(timer)
        resolve(res)
      },
    )
  })
}

export type Feed = { ws: WebSocket; recorder: Recorder; closed: Promise<{ code: number; reason: string }> }

/** A plain WebSocket on /v1/stream; rejects with the HTTP status when the upgrade is refused. */
export function openFeed(
  t: Test,
  node: Node,
  query: { token?: string; lastSeq?: number },
  headers: Record<string, string> = {},
): Promise<Feed> {
  const qs = new URLSearchParams(
    Object.entries(query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)] as [string, string]),
  ).toString()
  const ws = new WebSocket(`${node.url.replace('http', 'ws')}/v1/stream${qs ? `?${qs}` : ''}`, { headers })
  const recorder = new Recorder()
  ws.on('message', (raw) => {
    const frame = JSON.parse(String(raw)) as FeedFrame
    recorder.add({
      event: frame.event,
      payload: { ...(frame.seq === null ? {} : { seq: frame.seq }), data: frame.data },
    })
  })
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  )
  t.teardown(() => ws.terminate())
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, recorder, closed }))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += String(c)))
      res.on('end', () =>
        reject(
          Object.assign(new Error(`feed refused: ${res.statusCode}`), {
            status: res.statusCode,
            body: body ? JSON.parse(body) : null,
          }),
        ),
      )
    })
    ws.once('error', (err) => reject(err))
  })
}

/**
 * A TCP proxy in front of Redis that a test can cut and restore, to take one node's
 * Redis away without touching the Redis every other test uses.
 */
export async function redisProxy(t: Test): Promise<{ url: string; cut: () => void; restore: () => void }> {
  const target = new URL(TEST_REDIS_URL)
  const sockets = new Set<NetSocket>()
  let open = true
  const server: NetServer = createServer((client) => {
    if (!open) return void client.destroy()
    const upstream = new NetSocket()
    upstream.connect(Number(target.port || 6379), target.hostname)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.on('close', () => {
        sockets.delete(s)
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    server.close()
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `redis://127.0.0.1:${port}`,
    cut: () => {
      open = false
      for (const s of sockets) s.destroy()
    },
    restore: () => void (open = true),
  }
}
