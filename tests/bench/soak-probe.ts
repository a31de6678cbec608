/**
 * Preloaded into the soak's server process (`node --import tsx --import this`): every
 * second it prints one JSON line with memory and the event-loop delay of that second.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

const histogram = monitorEventLoopDelay({ resolution: 10 })
histogram.enable()
setInterval(() => {
  const m = process.memoryUsage()
  process.stdout.write(
    `${JSON.stringify({ probe: true, t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, lagP99: histogram.percentile(99) / 1e6, lagMax: histogram.max / 1e6 })}\n`,
  )
  histogram.reset()
}, 1000).unref()
