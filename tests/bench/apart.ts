/**
 * The bench's outside world in its own process: the load generator (autocannon) and the fake
 * Paystack. Run in the same process as the server they measure, they would share its event
 * loop: every request autocannon sends and every initialize the fake answers would take time
 * from the server's own loop, and the server's CPU per request would have to be worked out by
 * subtraction. Here they only share the machine's cores, as clients and providers on other
 * machines would not even do.
 *
 * The parent (lib.ts: loadApart, paystackApart) starts this file with an IPC channel and sends
 * one command; this process answers it and stays until the parent ends it.
 */
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import { FakePaystack } from '../fakes/paystack.js'

/** One request of the cycle: every connection takes the next one of the list (a shared counter). */
export type ApartRequest = { method?: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string }

export type ApartLoadCommand = {
  op: 'load'
  url: string
  connections: number
  requests: ApartRequest[]
  /** Each request gets a fresh UUID in this header (an Idempotency-Key). */
  uuidHeader?: string
  /** Measured runs of `duration` seconds after a warm-up, the median of each figure reported… */
  duration?: number
  warmupSeconds?: number
  runs?: number
  /** …or one burst of exactly `amount` requests, with its status codes. */
  amount?: number
}

export type ApartLoadResult = {
  rps: number
  p50: number
  p95: number
  p99: number
  errors: number
  non2xx: number
  /** Requests sent over the measured runs (warm-up excluded). */
  sent: number
  /** Requests sent in all, warm-up included. */
  total: number
  codes: Record<string, number>
}

type Command = ApartLoadCommand | { op: 'paystack' }

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

async function runLoad(cmd: ApartLoadCommand): Promise<ApartLoadResult> {
  let k = 0
  let counting = false
  let sent = 0
  const pick = (): autocannon.Request => {
    const r = cmd.requests[k++ % cmd.requests.length]!
    if (counting) sent++
    const headers = { ...r.headers, ...(cmd.uuidHeader ? { [cmd.uuidHeader]: randomUUID() } : {}) }
    return { method: r.method ?? 'GET', path: r.path, headers, ...(r.body !== undefined ? { body: r.body } : {}) }
  }
  const opts = {
    url: cmd.url,
    connections: cmd.connections,
    pipelining: 1,
    requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...pick() }) }],
  }
  const codesOf = (r: autocannon.Result) => {
    const codes: Record<string, number> = {}
    for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) codes[code] = stat?.count ?? 0
    return codes
  }
  if (cmd.amount !== undefined) {
    counting = true
    const started = performance.now()
    const r = await autocannon({ ...opts, amount: cmd.amount })
    const seconds = (performance.now() - started) / 1000
    const codes = codesOf(r)
    const total = Object.values(codes).reduce((a, b) => a + b, 0)
    return {
      rps: total / seconds,
      p50: r.latency.p50,
      p95: (r.latency as unknown as Record<string, number>).p97_5 ?? r.latency.p99,
      p99: r.latency.p99,
      errors: r.errors + r.timeouts,
      non2xx: r.non2xx,
      sent,
      total: k,
      codes,
    }
  }
  if (cmd.warmupSeconds) await autocannon({ ...opts, duration: cmd.warmupSeconds })
  counting = true
  const results: autocannon.Result[] = []
  for (let i = 0; i < (cmd.runs ?? 1); i++) results.push(await autocannon({ ...opts, duration: cmd.duration ?? 10 }))
  const codes: Record<string, number> = {}
  for (const r of results) for (const [c, n] of Object.entries(codesOf(r))) codes[c] = (codes[c] ?? 0) + n
  return {
    rps: median(results.map((r) => r.requests.average)),
    p50: median(results.map((r) => r.latency.p50)),
    p95: median(results.map((r) => (r.latency as unknown as Record<string, number>).p97_5 ?? r.latency.p99)),
    p99: median(results.map((r) => r.latency.p99)),
    errors: results.reduce((a, r) => a + r.errors + r.timeouts, 0),
    non2xx: results.reduce((a, r) => a + r.non2xx, 0),
    sent,
    total: k,
    codes,
  }
}

if (process.send) {
  let paystack: FakePaystack | undefined
  process.on('message', (cmd: Command) => {
    const answer = async () => {
      if (cmd.op === 'load') return { ok: true, result: await runLoad(cmd) }
      paystack = await FakePaystack.start()
      return { ok: true, result: { url: paystack.url, secretKey: paystack.secretKey } }
    }
    answer().then(
      (m) => process.send!(m),
      (err: unknown) => process.send!({ ok: false, error: String((err as Error)?.stack ?? err) }),
    )
  })
  process.on('disconnect', () => {
    void (paystack?.close() ?? Promise.resolve()).finally(() => process.exit(0))
  })
}
