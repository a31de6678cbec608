import type { FastifyBaseLogger } from 'fastify'

/**
 * Work a request starts but does not wait for (a webhook is answered 200 before it is
 * processed). Tracked so that shutdown and tests can wait until it has finished.
 */
export class Background {
  private readonly running = new Set<Promise<unknown>>()

  constructor(private readonly log: FastifyBaseLogger) {}

  run(name: string, task: () => Promise<unknown>): void {
    const p: Promise<unknown> = Promise.resolve()
      .then(task)
      .catch((err) => this.log.warn({ err, task: name }, 'background task failed'))
      .finally(() => this.running.delete(p))
    this.running.add(p)
  }

  /** Resolves once nothing is running, including tasks started by tasks. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running])
  }
}
