import type { FastifyBaseLogger } from 'fastify'

/**
 * The loop of an outbox sender (mail, push): a pass runs now when kicked (something was
 * queued and committed) and otherwise every `pollMs`; at most one pass runs at a time (a
 * kick during a pass runs another right after); a pass that says it left work runs again at
 * once. `stop()` waits for the pass in progress.
 */
export class PollLoop {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = true

  constructor(
    /** One pass; resolves true when it stopped at its batch size (more is due now). */
    private readonly pass: () => Promise<boolean>,
    private readonly opts: { pollMs: number; log: FastifyBaseLogger; name: string },
  ) {}

  start(): void {
    this.stopped = false
    this.schedule(0)
  }

  /** Runs a pass soon. */
  kick(): void {
    if (!this.stopped) this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearTimeout(this.timer)
    await this.running
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      if (this.running) return this.schedule(50)
      let more = false
      this.running = this.pass()
        .then((full) => void (more = full))
        .catch((err) => this.opts.log.warn({ err }, `${this.opts.name} pass failed`))
        .finally(() => {
          this.running = undefined
          if (!this.stopped) this.schedule(more ? 0 : this.opts.pollMs)
        })
    }, ms)
    this.timer.unref()
  }
}
