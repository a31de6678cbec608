/** One stored event on its way to a client. */
export type LiveEvent = { seq: number; event: string; data: unknown }

/** Reads stored events of a user after a seq, in seq order (GET /v1/me/events). */
export type EventFetcher = (
  userId: string,
  after: number,
  limit: number,
) => Promise<{ items: LiveEvent[]; hasMore: boolean }>

const PAGE = 500
/** A connection this far behind is cut; the client reconnects with lastSeq and reads in pages. */
const MAX_BUFFERED = 10_000

/**
 * The ordered event stream of one connection. Every event reaches the client exactly once
 * and in seq order, whatever the order events arrive in from the nodes:
 *
 * - While a catch-up (or gap fill) reads the database, live events are buffered.
 * - An event with seq ≤ the last one sent is dropped (it was already sent, from the
 *   database or live).
 * - An event that skips ahead (seq > last + 1) means some were missed (another node
 *   published them later, or Redis lost them): the stream reads the database from the
 *   last seq sent, which holds every committed event, then continues.
 *
 * The database read is authoritative: an event is published only after its transaction
 * commits, and a user's seqs commit in order, so a read that starts after event n arrived
 * sees every event up to n. A gap that survives such a read is a purged event; it is
 * skipped rather than waited for.
 */
export abstract class OrderedStream {
  private lastSent = 0
  private syncing = true
  private again = false
  private arrivals = 0
  private buffer: { event: LiveEvent; arrival: number }[] = []
  private ended = false

  constructor(
    readonly userId: string,
    private readonly fetch: EventFetcher,
  ) {}

  /** Hands one event to the client. */
  protected abstract send(event: LiveEvent): void
  /** The stream stopped (too far behind, or the database unreadable): the client must resync. */
  protected abstract fail(reason: string, err?: unknown): void

  get last(): number {
    return this.lastSent
  }

  /**
   * Starts the stream: after `lastSeq` (the missed events are sent first), or from the
   * user's latest seq when the client has none (`latest` reads it).
   */
  async start(lastSeq: number | undefined, latest: () => Promise<number>): Promise<void> {
    if (lastSeq !== undefined) {
      this.lastSent = lastSeq
      await this.sync()
      return
    }
    const readStart = this.arrivals
    try {
      this.lastSent = await latest()
    } catch (err) {
      this.stop('resync_failed', err)
      return
    }
    if (this.drain(readStart)) await this.sync()
    else this.syncing = false
  }

  /** A live event for this user. */
  push(event: LiveEvent): void {
    if (this.ended) return
    this.arrivals++
    if (this.syncing) {
      this.buffer.push({ event, arrival: this.arrivals })
      if (this.buffer.length > MAX_BUFFERED) this.stop('too_far_behind')
      return
    }
    if (event.seq <= this.lastSent) return
    if (event.seq === this.lastSent + 1) {
      this.emit(event)
      return
    }
    this.buffer.push({ event, arrival: this.arrivals })
    void this.sync()
  }

  /** Re-reads the database after the last seq sent (after a Redis outage, events may be missing). */
  resync(): Promise<void> {
    if (this.ended) return Promise.resolve()
    if (this.syncing) {
      this.again = true
      return Promise.resolve()
    }
    return this.sync()
  }

  end(): void {
    this.ended = true
    this.buffer = []
  }

  private emit(event: LiveEvent): void {
    this.lastSent = event.seq
    this.send(event)
  }

  private stop(reason: string, err?: unknown): void {
    if (this.ended) return
    this.end()
    this.fail(reason, err)
  }

  /**
   * Sends buffered events in order: those that arrived before `readStart` unconditionally
   * (the read covered them), later ones only while contiguous. Returns true when a gap
   * remains, which needs another read.
   */
  private drain(readStart: number): boolean {
    this.buffer.sort((a, b) => a.event.seq - b.event.seq)
    const rest: typeof this.buffer = []
    for (const item of this.buffer) {
      if (item.event.seq <= this.lastSent) continue
      if (rest.length === 0 && (item.event.seq === this.lastSent + 1 || item.arrival <= readStart))
        this.emit(item.event)
      else rest.push(item)
    }
    this.buffer = rest
    return rest.length > 0
  }

  private async sync(): Promise<void> {
    this.syncing = true
    try {
      for (let attempt = 0; !this.ended;) {
        const readStart = this.arrivals
        this.again = false
        try {
          for (;;) {
            const page = await this.fetch(this.userId, this.lastSent, PAGE)
            if (this.ended) return
            for (const item of page.items) if (item.seq > this.lastSent) this.emit(item)
            if (!page.hasMore) break
          }
        } catch (err) {
          if (++attempt >= 3) return this.stop('resync_failed', err)
          await new Promise((r) => setTimeout(r, 250 * attempt))
          continue
        }
        if (!this.drain(readStart) && !this.again) return
      }
    } finally {
      this.syncing = false
    }
  }
}
