import type { FastifyBaseLogger } from 'fastify'
import { OrderedStream, type EventFetcher, type LiveEvent } from './delivery.js'

/** A live client connection on this node, whatever its transport. */
export interface Connection {
  readonly id: string
  readonly userId: string
  readonly sessionId: string
  readonly transport: 'socket.io' | 'feed'
  /** Whether its user is an admin (role at connect, or at the last in-band token refresh): it gets admin events. */
  admin: boolean
  /** Sends one event; `seq` is null for events that are not stored (typing, admin events). */
  deliver(event: string, seq: number | null, data: unknown): void
  /**
   * Closes the connection. `final` (logout, ban): the client must not just reconnect;
   * otherwise (shutdown, a stream that fell behind) it reconnects with its lastSeq.
   */
  end(reason: string, final: boolean): void
}

export type DisconnectTarget = { userId: string; sessionId?: string; reason: string }

/** Runs at most `n` database reads at once, so a burst of resyncs cannot starve requests. */
function limiter(n: number) {
  let active = 0
  const queue: (() => void)[] = []
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => queue.push(r))
    active++
    try {
      return await fn()
    } finally {
      active--
      queue.shift()?.()
    }
  }
}

/** A connection's ordered stream: its methods, not closures per connection, reach the connection and the hub. */
class ConnectionStream extends OrderedStream {
  constructor(
    readonly conn: Connection,
    private readonly hub: Hub,
    fetch: EventFetcher,
  ) {
    super(conn.userId, fetch)
  }

  protected send(e: LiveEvent): void {
    this.conn.deliver(e.event, e.seq, e.data)
  }

  protected fail(reason: string, err?: unknown): void {
    this.hub.streamFailed(this.conn, reason, err)
  }
}

/**
 * The connections of this node, by user. Events reach it from this node's commits and,
 * through the adapter, from every other node's; each connection's stream (an OrderedStream)
 * puts them in order and fills gaps from the database.
 *
 * Memory per connection is kept small (issue 16): a user's streams are a short array (one
 * per device, usually one), not a Map per user, and the streams share the hub's fetcher.
 */
export class Hub {
  private readonly byUser = new Map<string, ConnectionStream[]>()
  /** This node's connections of admins (the `admins` room, both transports). */
  private readonly admins = new Set<Connection>()
  private readonly limit = limiter(4)
  /** The database reads of every stream, through the limiter. */
  private readonly fetch: EventFetcher

  constructor(
    private readonly opts: {
      fetch: EventFetcher
      latestSeq: (userId: string) => Promise<number>
      log: FastifyBaseLogger
    },
  ) {
    this.fetch = (userId, after, limit) => this.limit(() => opts.fetch(userId, after, limit))
  }

  /** Registers a connection and starts its stream (the catch-up after `lastSeq` first). */
  attach(conn: Connection, lastSeq: number | undefined): Promise<void> {
    const stream = new ConnectionStream(conn, this, this.fetch)
    const streams = this.byUser.get(conn.userId)
    if (streams) streams.push(stream)
    else this.byUser.set(conn.userId, [stream])
    if (conn.admin) this.admins.add(conn)
    return stream.start(lastSeq, () => this.limit(() => this.opts.latestSeq(conn.userId)))
  }

  /** A stream stopped: its connection is detached and closed (the client reconnects with its lastSeq). */
  streamFailed(conn: Connection, reason: string, err?: unknown): void {
    this.opts.log.warn(
      { err, connection: conn.id, userId: conn.userId, reason },
      'live stream stopped; the client must resync',
    )
    this.detach(conn)
    conn.end(reason, false)
  }

  detach(conn: Connection): void {
    const streams = this.byUser.get(conn.userId)
    const i = streams ? streams.findIndex((s) => s.conn === conn) : -1
    if (!streams || i < 0) return
    this.admins.delete(conn)
    streams[i]!.end()
    streams.splice(i, 1)
    if (streams.length === 0) this.byUser.delete(conn.userId)
  }

  /** Stored events (any users) to this node's connections. */
  deliver(events: (LiveEvent & { userId: string })[]): void {
    for (const e of events) {
      const streams = this.byUser.get(e.userId)
      if (!streams) continue
      const live: LiveEvent = { seq: e.seq, event: e.event, data: e.data }
      // A copy: a push can end a stream (too far behind), which detaches it from this array.
      for (const stream of streams.length === 1 ? streams : [...streams]) stream.push(live)
    }
  }

  /** An event that is not stored (typing) to this node's connections of some users. */
  ephemeral(userIds: string[], event: string, data: unknown): void {
    for (const userId of userIds) for (const s of this.byUser.get(userId) ?? []) s.conn.deliver(event, null, data)
  }

  /** Unstored admin events (a flag, a report, a dispute) to this node's admin connections. */
  toAdmins(events: { event: string; data: unknown }[]): void {
    for (const conn of this.admins) for (const e of events) conn.deliver(e.event, null, e.data)
  }

  /** A connection's user became, or stopped being, an admin (seen at an in-band token refresh). */
  setAdmin(conn: Connection, admin: boolean): void {
    conn.admin = admin
    if (admin && this.byUser.get(conn.userId)?.some((s) => s.conn === conn)) this.admins.add(conn)
    else this.admins.delete(conn)
  }

  /** Ends this node's connections of a user, or of one of its sessions. */
  disconnect(target: DisconnectTarget): number {
    const conns = (this.byUser.get(target.userId) ?? [])
      .map((s) => s.conn)
      .filter((c) => !target.sessionId || c.sessionId === target.sessionId)
    for (const conn of conns) {
      this.detach(conn)
      conn.end(target.reason, true)
    }
    return conns.length
  }

  /** Admin connections on this node. */
  get adminCount(): number {
    return this.admins.size
  }

  /** Live connections of a user on this node. */
  count(userId: string): number {
    return this.byUser.get(userId)?.length ?? 0
  }

  get size(): number {
    let n = 0
    for (const streams of this.byUser.values()) n += streams.length
    return n
  }

  /** Every stream re-reads the database after its last seq (after Redis came back). */
  async resyncAll(): Promise<void> {
    const streams = [...this.byUser.values()].flat()
    await Promise.all(streams.map((s) => s.resync()))
  }

  /** Every connection, for shutdown. */
  connections(): Connection[] {
    return [...this.byUser.values()].flatMap((streams) => streams.map((s) => s.conn))
  }
}
