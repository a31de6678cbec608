import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter'
import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'

export type AdapterMode = 'sharded' | 'classic'

export type RedisLink = {
  mode: AdapterMode
  /** The Socket.IO adapter factory: `io.adapter(link.adapter)`. */
  adapter: ReturnType<typeof createAdapter>
  pub: Redis
  sub: Redis
  /** Whether both connections are up now. */
  readonly up: boolean
  /** Runs each time the link is whole again after an outage (subscriptions restored). */
  onRecovered(fn: () => void): void
  /** Resolves true once both connections are up and the adapter's subscriptions in place (false after `ms`). */
  subscribed(ms: number): Promise<boolean>
  close(): void
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())])

/**
 * The Redis side of the Socket.IO adapter: a publishing connection and its duplicate for
 * subscriptions. Redis 7 gets the sharded adapter (SPUBLISH/SSUBSCRIBE, which also spreads
 * over a Redis Cluster) in static mode: this node subscribes to two channels whatever the
 * number of rooms, because our deliveries are node-level messages, not room broadcasts.
 *
 * Losing Redis must cost live delivery only: the publisher fails fast (no offline queue,
 * so nothing waits or piles up in memory), the subscriber queues its re-subscriptions and
 * restores them on reconnect, and `onRecovered` lets the realtime layer re-read what
 * it may have missed from PostgreSQL.
 */
export async function connectRedisLink(opts: {
  url: string
  channelPrefix: string
  mode?: AdapterMode | 'auto'
  log: FastifyBaseLogger
}): Promise<RedisLink> {
  const { log } = opts
  const pub = new Redis(opts.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    keepAlive: 10_000,
    connectionName: 'oja-realtime-pub',
    lazyConnect: true,
  })
  const sub = pub.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    connectionName: 'oja-realtime-sub',
    lazyConnect: true,
  })
  let down = false
  let closed = false
  const recovered: (() => void)[] = []
  const onDown = () => {
    if (closed || down) return
    down = true
    log.warn(
      'realtime: Redis link lost; live events reach this node only until it returns (clients resync from the database)',
    )
  }
  const onReady = () => {
    if (closed || !down || pub.status !== 'ready' || sub.status !== 'ready') return
    down = false
    // PING answers after the re-subscriptions sent on reconnect: they are in place.
    sub.ping().then(
      () => {
        log.info('realtime: Redis link restored')
        for (const fn of recovered) fn()
      },
      () => {},
    )
  }
  for (const client of [pub, sub]) {
    client.on('error', (err: Error) => log.debug({ err: err.message }, 'realtime redis error'))
    client.on('close', onDown)
    client.on('ready', onReady)
  }
  await Promise.allSettled([withTimeout(pub.connect(), 3000), withTimeout(sub.connect(), 3000)])
  // Not up yet (Redis slow or away at start): what is published meanwhile is lost to the
  // other nodes, so the first 'ready' counts as a recovery and triggers the resync.
  if (pub.status !== 'ready' || sub.status !== 'ready') onDown()

  let mode: AdapterMode = opts.mode === 'classic' || opts.mode === 'sharded' ? opts.mode : 'sharded'
  if (!opts.mode || opts.mode === 'auto') {
    try {
      const version = /redis_version:(\d+)/.exec(await withTimeout(pub.info('server'), 2000))?.[1]
      if (version && Number(version) < 7) mode = 'classic'
    } catch {
      log.warn('realtime: Redis not reachable at start; assuming Redis 7 (sharded pub/sub)')
    }
  }
  if (mode === 'classic') {
    // The classic adapter publishes without handling a refused command: without this a Redis
    // outage would surface as an unhandled rejection and take the process down.
    const publish = pub.publish.bind(pub) as (channel: string, message: string | Buffer) => Promise<number>
    ;(pub as unknown as { publish: typeof publish }).publish = (channel, message) =>
      publish(channel, message).catch(() => 0)
  }
  const adapter =
    mode === 'sharded'
      ? createShardedAdapter(pub, sub, { channelPrefix: opts.channelPrefix, subscriptionMode: 'static' })
      : createAdapter(pub, sub, { key: opts.channelPrefix })

  return {
    mode,
    adapter: adapter as ReturnType<typeof createAdapter>,
    pub,
    sub,
    get up() {
      return !down && pub.status === 'ready' && sub.status === 'ready'
    },
    onRecovered: (fn) => void recovered.push(fn),
    async subscribed(ms) {
      const deadline = Date.now() + ms
      while (pub.status !== 'ready') {
        if (closed || Date.now() > deadline) return false
        await new Promise((r) => setTimeout(r, 20))
      }
      return withTimeout(sub.ping(), Math.max(1, deadline - Date.now())).then(
        () => true,
        () => false,
      )
    },
    close() {
      closed = true
      pub.disconnect()
      sub.disconnect()
    },
  }
}
