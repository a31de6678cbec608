import type { FastifyBaseLogger } from 'fastify'
import type { Knex } from '../db/index.js'

export type Job = {
  name: string
  /** Runs inside a transaction that holds the job's advisory lock: one node at a time. */
  run: (trx: Knex.Transaction) => Promise<number | void>
}

const lockKeyOf = (name: string) => {
  let h = 7_042_100
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) | 0
  return h
}

/**
 * The background loop of a node. Each job takes a transaction-level advisory lock with
 * pg_try_advisory_xact_lock, so with N nodes exactly one runs it per tick and the lock can
 * never leak past the transaction.
 */
export class Sweeper {
  private readonly jobs: Job[] = []
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true
  /** Set by stop(): a pass in progress ends after its current job. */
  private closing = false

  constructor(
    private readonly db: Knex,
    private readonly log: FastifyBaseLogger,
    private readonly intervalMs: number,
  ) {}

  register(job: Job): void {
    this.jobs.push(job)
  }

  start(): void {
    this.stopped = false
    this.closing = false
    this.schedule()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.closing = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.runOnce()
        .then(() => {})
        .finally(() => {
          this.running = undefined
          if (!this.stopped) this.schedule()
        })
    }, this.intervalMs)
    this.timer.unref()
  }

  /** Runs every job once (where this node wins its lock); returns rows touched per job. */
  async runOnce(): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const job of this.jobs) {
      if (this.closing) break
      try {
        await this.db.transaction(async (trx) => {
          const { rows } = await trx.raw<{ rows: { got: boolean }[] }>('select pg_try_advisory_xact_lock(?) as got', [
            lockKeyOf(job.name),
          ])
          if (!rows[0]?.got) return
          const n = await job.run(trx)
          out[job.name] = typeof n === 'number' ? n : 0
        })
      } catch (err) {
        this.log.warn({ err, job: job.name }, 'background job failed')
      }
    }
    return out
  }
}
