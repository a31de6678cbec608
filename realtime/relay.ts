import type { FastifyBaseLogger } from 'fastify'
import type { Server } from 'socket.io'
import type { AdminBroadcast, Publisher, StoredEvent } from '../src/events/index.js'
import type { Presence } from '../src/chat/index.js'
import type { Actor } from '../src/shared/index.js'
import type { DisconnectTarget, Hub } from './hub.js'
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.js'

/** A stored event on the wire between nodes. */
export type WireEvent = { userId: string; seq: number; event: string; data: unknown }

/** An admin event on the wire between nodes (every node hands it to its admins' connections). */
export type AdminWireEvent = { event: string; data: unknown }

/** Node ↔ node through the adapter (serverSideEmit); not part of the client protocol. */
export interface InterServerEvents {
  'oja:events': (events: WireEvent[]) => void
  'oja:admins': (events: AdminWireEvent[]) => void
  'oja:ephemeral': (userIds: string[], event: string, data: unknown) => void
  'oja:disconnect': (target: { userId: string; sessionId?: string; reason: string }) => void
  /** A node's Redis came back: its publishes during the outage may be lost, so every node re-reads. */
  'oja:resync': () => void
  /** Kept for nodes of the previous release during a rolling deploy (they ask one user at a time). */
  'oja:presence': (userId: string, reply: (connections: number) => void) => void
  /** Live connections of each user on the answering node, in the order asked. */
  'oja:presence-many': (userIds: string[], reply: (connections: number[]) => void) => void
}

/** What the server keeps on each socket. */
export type SocketData = { actor: Actor; lastSeq?: number; expiresAt: number }

export type OjaIo = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>

/** Events per adapter message: a price drop to 10 000 wishlisters leaves as 20 messages, not 10 000. */
const CHUNK = 500
/** Beyond this a sender's transaction stops waiting: the recipient counts as offline (one notification too many, never one too few). */
const PRESENCE_TIMEOUT_MS = 500

/**
 * Moves deliveries between nodes through the Socket.IO adapter. Each commit's events leave
 * this node as one `serverSideEmit` (not one room broadcast per event); every node hands
 * them to its own connections of those users (the hub's, both transports: no per-user
 * Socket.IO rooms), and admin events to its admins' connections (the `admins` room, and
 * admins' feeds). A node that receives events is what orders them per connection and
 * fills gaps from the database (see OrderedStream).
 */
export class Relay {
  constructor(
    private readonly io: OjaIo,
    private readonly hub: Hub,
    private readonly opts: { clustered: boolean; log: FastifyBaseLogger },
  ) {
    if (!opts.clustered) return
    io.on('oja:events', (events) => hub.deliver(events))
    io.on('oja:admins', (events) => hub.toAdmins(events))
    io.on('oja:ephemeral', (userIds, event, data) => hub.ephemeral(userIds, event, data))
    io.on('oja:disconnect', (target) => hub.disconnect(target))
    io.on('oja:resync', () => void hub.resyncAll())
    io.on('oja:presence', (userId, reply) => reply(hub.count(userId)))
    io.on('oja:presence-many', (userIds, reply) => reply(userIds.map((u) => hub.count(u))))
  }

  /** Users whose presence is asked of the other nodes at the next tick, with who waits for each answer. */
  private asking: Map<string, ((online: boolean) => void)[]> | null = null

  /** The event spine's publisher: after commit, to every device of each user on every node. */
  readonly publisher: Publisher = {
    publish: (events: StoredEvent[]) => {
      const wire: WireEvent[] = events.map((e) => ({ userId: e.userId, seq: e.seq, event: e.event, data: e.data }))
      this.hub.deliver(wire)
      for (let i = 0; i < wire.length; i += CHUNK) this.broadcast('oja:events', wire.slice(i, i + CHUNK))
    },
    toAdmins: (events: AdminBroadcast[]) => {
      const wire: AdminWireEvent[] = events.map((e) => ({ event: e.event, data: e.data }))
      this.hub.toAdmins(wire)
      this.broadcast('oja:admins', wire)
    },
    disconnect: (target: DisconnectTarget) => {
      this.hub.disconnect(target)
      this.broadcast('oja:disconnect', target)
    },
  }

  /** An event that is not stored (typing) to every device of some users. */
  ephemeral(userIds: string[], event: string, data: unknown): void {
    this.hub.ephemeral(userIds, event, data)
    this.broadcast('oja:ephemeral', userIds, event, data)
  }

  /** Asks every node to re-read what its connections may have missed (after this node's Redis outage). */
  requestResync(): void {
    this.broadcast('oja:resync')
  }

  /**
   * Whether a user has a live connection on any node: this node first, then every other
   * node counts its own (both transports). Stateless, so a crashed node can never leave a
   * user "online"; when the answer does not come (Redis down, a node slow), the user counts
   * as offline and gets a notification rather than nothing.
   */
  readonly presence: Presence = {
    isOnline: async (userId: string) => {
      if (this.hub.count(userId) > 0) return true
      if (!this.opts.clustered) return false
      return new Promise<boolean>((resolve) => {
        if (!this.asking) {
          this.asking = new Map()
          process.nextTick(() => this.askOthers())
        }
        const waiting = this.asking.get(userId)
        if (waiting) waiting.push(resolve)
        else this.asking.set(userId, [resolve])
      })
    },
  }

  /**
   * One question to the other nodes for every user asked about during this tick (a group
   * commit's batch asks about all its recipients at once): one adapter round trip per batch,
   * not one per message.
   */
  private askOthers(): void {
    const asking = this.asking
    this.asking = null
    if (!asking) return
    const userIds = [...asking.keys()]
    let answered = false
    const done = (err: Error | null, replies: number[][]) => {
      if (answered) return
      answered = true
      clearTimeout(timer)
      userIds.forEach((userId, i) => {
        const online = !err && replies.some((counts) => Array.isArray(counts) && (counts[i] ?? 0) > 0)
        for (const resolve of asking.get(userId)!) resolve(online)
      })
    }
    const timer = setTimeout(() => done(new Error('presence timeout'), []), PRESENCE_TIMEOUT_MS)
    timer.unref()
    const adapter = this.io.of('/').adapter
    // The adapter is called directly: the namespace would drop the promise, and with Redis
    // down its rejection would be unhandled.
    try {
      Promise.resolve(adapter.serverSideEmit(['oja:presence-many', userIds, done]) as unknown).catch(() =>
        done(new Error('adapter'), []),
      )
    } catch {
      done(new Error('adapter'), [])
    }
  }

  private broadcast<E extends keyof InterServerEvents>(event: E, ...args: Parameters<InterServerEvents[E]>): void {
    if (!this.opts.clustered) return
    try {
      ;(this.io as unknown as { serverSideEmit(event: string, ...args: unknown[]): void }).serverSideEmit(
        event,
        ...args,
      )
    } catch (err) {
      this.opts.log.warn({ err, event }, 'realtime: relay to other nodes failed')
    }
  }
}
