/** What a batch answers for one of its items: its value, or the error that item alone gets. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown }

export type GroupCommitOptions = {
  /** Items stored by one transaction at most. */
  maxBatch: number
  /** Batches running at once (each holds one pooled connection while it runs). */
  maxInFlight: number
  /**
   * Items that may wait for a batch; past it `submit` refuses at once with `refuse()`'s error
   * (past capacity, refused early rather than queued until every wait is too long). 0: no bound.
   */
  maxWaiting?: number
  /**
   * An item that has waited longer than this (ms) when its batch starts is refused with
   * `refuse()`'s error instead of stored late: its sender hears within a bounded time either
   * way. 0: no bound.
   */
  maxWaitMs?: number
  refuse?: () => unknown
}

/**
 * Group commit: items submitted while a batch is running wait for the next one, and each
 * batch stores everything that waited in one transaction with set-based statements, so the
 * fixed cost of a transaction (round trips, BEGIN/COMMIT, the spine's hooks) is paid per batch,
 * not per item. Alone, an item is a batch of one and starts at once: no timer, no added wait.
 *
 * `run` answers every item of a batch (an item refused by a rule gets its own error and the
 * others are stored). When `run` throws as a whole (a deadlock, a lost connection), the items
 * are tried again one by one, so one item that makes the statement fail fails alone.
 */
export class GroupCommit<I, O> {
  private readonly queue: { item: I; at: number; resolve: (v: O) => void; reject: (e: unknown) => void }[] = []
  private inFlight = 0

  constructor(
    private readonly run: (items: I[]) => Promise<ItemOutcome<O>[]>,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Resolves with the item's value once its batch has committed (or rejects with its own error). */
  submit(item: I): Promise<O> {
    const { maxWaiting = 0, refuse } = this.opts
    if (maxWaiting > 0 && this.queue.length >= maxWaiting)
      return Promise.reject(refuse ? refuse() : new Error('group commit: queue full'))
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, at: performance.now(), resolve, reject })
      this.pump()
    })
  }

  /** Items waiting for a batch (not counting those in a running batch). */
  get waiting(): number {
    return this.queue.length
  }

  private pump(): void {
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch)
      this.inFlight++
      void this.flush(batch).finally(() => {
        this.inFlight--
        this.pump()
      })
    }
  }

  private async flush(all: typeof this.queue): Promise<void> {
    const { maxWaitMs = 0, refuse } = this.opts
    const late = maxWaitMs > 0 ? performance.now() - maxWaitMs : -Infinity
    const batch = all.filter((b) => {
      if (b.at >= late) return true
      b.reject(refuse ? refuse() : new Error('group commit: waited too long'))
      return false
    })
    if (batch.length === 0) return
    let outcomes: ItemOutcome<O>[]
    try {
      outcomes = await this.run(batch.map((b) => b.item))
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err)
        return
      }
      outcomes = await Promise.all(
        batch.map((b) =>
          this.run([b.item]).then(
            (o) => o[0]!,
            (error: unknown) => ({ ok: false as const, error }),
          ),
        ),
      )
    }
    batch.forEach((b, i) => {
      const o = outcomes[i]
      if (!o) b.reject(new Error('group commit: no outcome for an item'))
      else if (o.ok) b.resolve(o.value)
      else b.reject(o.error)
    })
  }
}
