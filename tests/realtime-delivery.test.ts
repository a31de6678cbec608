import t from 'tap'
import fc from 'fast-check'
import { OrderedStream, type EventFetcher, type LiveEvent } from '../realtime/delivery.js'

/** The ordering rules under test (OrderedStream), with the sink and the failure as callbacks. */
class DeliveryStream extends OrderedStream {
  constructor(
    userId: string,
    private readonly onSend: (event: LiveEvent) => void,
    fetch: EventFetcher,
    private readonly onFail: (reason: string, err?: unknown) => void,
  ) {
    super(userId, fetch)
  }

  protected send(event: LiveEvent): void {
    this.onSend(event)
  }

  protected fail(reason: string, err?: unknown): void {
    this.onFail(reason, err)
  }
}

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i)
const ev = (seq: number): LiveEvent => ({ seq, event: 'x', data: { seq } })

/** A user's committed events, as GET /v1/me/events reads them (optionally with the oldest purged). */
function store(purgedUpTo = 0) {
  const events: LiveEvent[] = []
  const fetch: EventFetcher = async (_user, after, limit) => {
    const rows = events.filter((e) => e.seq > after && e.seq > purgedUpTo)
    return { items: rows.slice(0, limit), hasMore: rows.length > limit }
  }
  return { events, fetch, commit: () => (events.push(ev(events.length + 1)), events[events.length - 1]!) }
}

void t.test(
  'whatever order, loss or duplication the nodes deliver in, each event reaches the client once and in order',
  async (t) => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.constantFrom('live', 'live', 'live', 'lost', 'twice'), { maxLength: 40 }),
        fc.integer({ min: 0, max: 8 }),
        fc.option(fc.integer({ min: 0, max: 8 })),
        async (s, plan, before, lastSeqOption) => {
          const db = store()
          for (let i = 0; i < before; i++) db.commit()
          const lastSeq = lastSeqOption === null ? undefined : Math.min(lastSeqOption, before)
          const sent: number[] = []
          let failed: string | undefined
          let startAt = lastSeq ?? -1
          const stream = new DeliveryStream(
            'u',
            (e) => sent.push(e.seq),
            (u, after, limit) => s.schedule(db.fetch(u, after, limit)),
            (reason) => (failed = reason),
          )
          const started = stream.start(lastSeq, () =>
            s.schedule(Promise.resolve(db.events.length)).then((n) => (startAt = n)),
          )
          // Commits happen in seq order; each one's publication arrives whenever the scheduler says.
          const commits = s.scheduleSequence(
            plan.map((fate) => async () => {
              const e = db.commit()
              if (fate !== 'lost') void s.schedule(Promise.resolve()).then(() => stream.push(e))
              if (fate === 'twice') void s.schedule(Promise.resolve()).then(() => stream.push(e))
            }),
          )
          // waitFor/waitIdle release every task the stream schedules, including those it
          // schedules later from its own continuations (waitAll could return before them
          // and leave `started` pending forever).
          await s.waitFor(commits.task)
          await s.waitFor(started)
          await s.waitIdle()
          // What Redis lost is found by the next resync (Redis recovered) or the next event.
          await s.waitFor(stream.resync())
          await s.waitIdle()
          t.equal(failed, undefined)
          return JSON.stringify(sent) === JSON.stringify(range(startAt + 1, db.events.length))
        },
      ),
      { numRuns: Number(process.env.FC_RUNS ?? 300), timeout: 10_000 },
    )
  },
)

void t.test('events purged from the log are skipped, not waited for', async (t) => {
  const db = store(5)
  for (let i = 0; i < 8; i++) db.commit()
  const sent: number[] = []
  const stream = new DeliveryStream(
    'u',
    (e) => sent.push(e.seq),
    db.fetch,
    () => t.fail('failed'),
  )
  await stream.start(2, async () => 0)
  t.same(sent, [6, 7, 8], 'from the oldest kept event')
  const nine = db.commit()
  stream.push(nine)
  t.same(sent, [6, 7, 8, 9])
})

void t.test('a database that keeps failing ends the stream (the client reconnects and resyncs)', async (t) => {
  let calls = 0
  const fetch: EventFetcher = async () => {
    calls++
    throw new Error('db down')
  }
  let reason: string | undefined
  const stream = new DeliveryStream(
    'u',
    () => t.fail('sent'),
    fetch,
    (r) => (reason = r),
  )
  await stream.start(0, async () => 0)
  t.equal(reason, 'resync_failed')
  t.equal(calls, 3, 'three attempts')
  stream.push(ev(1))
})

void t.test('a client too far behind is cut rather than buffered without bound', async (t) => {
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const fetch: EventFetcher = async () => {
    await gate
    return { items: [], hasMore: false }
  }
  let reason: string | undefined
  const stream = new DeliveryStream(
    'u',
    () => {},
    fetch,
    (r) => (reason = r),
  )
  const started = stream.start(0, async () => 0)
  for (let i = 1; i <= 10_001; i++) stream.push(ev(i))
  t.equal(reason, 'too_far_behind')
  release()
  await started
})

void t.test(
  'a resync asked for during a read reads again afterwards (what Redis lost meanwhile is found)',
  async (t) => {
    const db = store()
    db.commit()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    let reads = 0
    const fetch: EventFetcher = async (u, after, limit) => {
      const snapshot = await db.fetch(u, after, limit)
      if (reads++ === 0) await gate
      return snapshot
    }
    const sent: number[] = []
    const stream = new DeliveryStream(
      'u',
      (e) => sent.push(e.seq),
      fetch,
      () => t.fail('failed'),
    )
    const started = stream.start(0, async () => 0)
    db.commit() // committed after the read's snapshot; its publication was lost
    void stream.resync()
    release()
    await started
    t.same(sent, [1, 2])
    t.equal(reads, 2)
  },
)
