import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ApartLoadCommand, ApartLoadResult } from './apart.js'

export type { ApartRequest } from './apart.js'

/** One line of the benchmark table. Times in milliseconds. */
export type BenchRow = {
  scenario: string
  /** `oja` for our server, `reference` for the bare baseline of the same work. */
  variant: string
  rps?: number
  p50?: number
  p95?: number
  p99?: number
  /** oja ÷ reference (throughput), filled in by the runner when both rows exist. */
  ratio?: number
  target?: string
  /**
   * Whether the figure meets `target`, decided by the scenario from its measured numbers
   * (never hard-coded): printed as `met` / `NOT MET`; left out where a row has no target.
   */
  met?: boolean
  note?: string
}

export type BenchContext = {
  pgAdminUrl: string
  redisUrl: string
  /** `--quick`: shorter runs, for trying a scenario out. */
  quick: boolean
  soak: boolean
  log: (msg: string) => void
}

/** A scenario file in tests/bench/scenarios/ exports `scenario` of this shape. */
export type Scenario = { name: string; order: number; run: (ctx: BenchContext) => Promise<BenchRow[]> }

export type LoadResult = { rps: number; p50: number; p95: number; p99: number; errors: number; non2xx: number }

const APART = fileURLToPath(new URL('./apart.ts', import.meta.url))

/** A child process running tests/bench/apart.ts, answering one command at a time. */
class Apart {
  private constructor(private readonly proc: ChildProcess) {}

  static start(): Apart {
    return new Apart(
      spawn(process.execPath, ['--import', 'tsx', APART], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    )
  }

  ask<T>(command: object): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: { ok: boolean; result?: T; error?: string }) => {
        this.proc.off('exit', onExit)
        if (m.ok) resolve(m.result as T)
        else reject(new Error(`bench child: ${m.error}`))
      }
      const onExit = (code: number) => {
        this.proc.off('message', onMessage)
        reject(new Error(`bench child exited with ${code}`))
      }
      this.proc.once('message', onMessage)
      this.proc.once('exit', onExit)
      this.proc.send(command)
    })
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return
    const exited = once(this.proc, 'exit')
    this.proc.disconnect()
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
    if (this.proc.exitCode === null) this.proc.kill('SIGKILL')
  }
}

/**
 * The load generator in its own process (tests/bench/apart.ts), so it never takes time from the
 * measured server's event loop: the measured runs' figures (medians) or one burst of `amount`,
 * and how many requests were sent. `requests` are taken in turn by every connection.
 */
export async function loadApart(opts: Omit<ApartLoadCommand, 'op'>): Promise<ApartLoadResult> {
  const child = Apart.start()
  try {
    return await child.ask<ApartLoadResult>({ op: 'load', ...opts })
  } finally {
    await child.stop()
  }
}

/** The fake Paystack (tests/fakes/paystack.ts) in its own process, for the same reason. */
export async function paystackApart(): Promise<{ url: string; secretKey: string; close: () => Promise<void> }> {
  const child = Apart.start()
  try {
    const { url, secretKey } = await child.ask<{ url: string; secretKey: string }>({ op: 'paystack' })
    return { url, secretKey, close: () => child.stop() }
  } catch (err) {
    await child.stop()
    throw err
  }
}

/** Percentile of a list of samples (ms). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

/** Starts a bare node:http server for a reference and returns its URL and a closer. */
export async function bareServer(
  handler: Parameters<typeof createServer>[1],
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server, close: () => new Promise((r) => server.close(() => r())) }
}

/**
 * CPU time (ms, user + system) used so far by every PostgreSQL server process on this
 * machine, from /proc (Linux; 0 elsewhere). The difference over a run is PostgreSQL's CPU for
 * it, provided nothing else uses the database server meanwhile and its connections stay open
 * (a backend that exits takes its count with it).
 */
export function postgresCpuMs(): number {
  let ticks = 0
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p))
  } catch {
    return 0
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue
      // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
      const fields = stat.slice(close + 2).split(' ')
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      // The process ended while being read.
    }
  }
  return ticks * 10 // USER_HZ is 100 on Linux
}
