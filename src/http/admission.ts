import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Knex } from '../db/index.js'
import { HttpErrors } from './http.errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * True while the database pool has as many requests waiting as the node admits, or the
     * event loop lags past its bound (see admission.ts).
     */
    overloaded(): boolean
  }
}

/**
 * Admission control: past capacity, refuse early and explicitly instead of queueing. Every
 * request of the API and every socket request needs a database connection; when
 * `ADMISSION_DB_QUEUE` of them already wait for one, a new one is refused at once (REST: 503
 * `OVERLOADED` with `Retry-After: 1`; socket: an ack with that code and `retryAfter`) before
 * it does anything, so the work already admitted keeps the pool and finishes in time, where an
 * unbounded queue let every request wait until Knex's acquire timeout (measured: a chat flood
 * delivered nothing). Health checks, Paystack's webhook (answered at once, worked after) and
 * static files are never refused. 0 turns it off.
 *
 * The pool is one bottleneck; the node's own CPU is the other: when the event loop is late by
 * more than `ADMISSION_EVENT_LOOP_DELAY_MS` (the worst delay of a 10 ms timer over the last
 * 250 ms window, perf_hooks' monitorEventLoopDelay), requests are refused the same way until a
 * window is back under it. Work already admitted finishes; new work waits for capacity on the
 * client's side (Retry-After) instead of in this process's queues. 0 turns it off.
 */
export const admissionPlugin = fp(
  async (app: FastifyInstance, opts: { db: Knex; maxWaiting: number; maxEventLoopDelayMs: number }) => {
    const pool = (opts.db.client as { pool?: { numPendingAcquires?: () => number } }).pool
    let lagging = false
    if (opts.maxEventLoopDelayMs > 0) {
      const delay = monitorEventLoopDelay({ resolution: 10 })
      let window: NodeJS.Timeout | undefined
      // Watched from the moment the server is ready: building it (compiling every schema)
      // blocks the loop once, and must not refuse the first requests.
      app.addHook('onReady', async () => {
        delay.enable()
        window = setInterval(() => {
          lagging = delay.max / 1e6 > opts.maxEventLoopDelayMs
          delay.reset()
        }, 250)
        window.unref()
      })
      app.addHook('onClose', async () => {
        clearInterval(window)
        delay.disable()
      })
    }
    const overloaded = () => lagging || (opts.maxWaiting > 0 && (pool?.numPendingAcquires?.() ?? 0) >= opts.maxWaiting)
    app.decorate('overloaded', overloaded)
    app.addHook('onRequest', async (req) => {
      const url = req.routeOptions.url
      if (!url?.startsWith('/v1/') || url === '/v1/webhooks/paystack') return
      if (overloaded()) throw HttpErrors.overloaded()
    })
  },
  { name: 'oja-admission' },
)
