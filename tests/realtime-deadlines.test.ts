import t from 'tap'
import fc from 'fast-check'
import { Deadlines, type Expiring } from '../realtime/auth.js'

const item = (expired: number[], id: number): Expiring & { id: number } => ({
  id,
  deadlineAt: Number.POSITIVE_INFINITY,
  deadlineSlot: -1,
  expire: () => expired.push(id),
})

void t.test(
  'one timer for many deadlines: each expires at its own, in order; moved and cleared ones are respected',
  async (t) => {
    const expired: number[] = []
    const d = new Deadlines()
    const now = Date.now()
    const items = [0, 1, 2, 3, 4].map((i) => item(expired, i))
    d.set(items[0]!, now + 150)
    d.set(items[1]!, now + 50)
    d.set(items[2]!, now + 100)
    d.set(items[3]!, now + 60)
    d.set(items[4]!, Number.POSITIVE_INFINITY) // a token without exp: never
    d.clear(items[3]!) // disconnected
    d.set(items[2]!, now + 250) // refreshed in band
    t.equal(d.size, 3)
    await new Promise((r) => setTimeout(r, 80))
    t.same(expired, [1], 'the earliest, at its deadline')
    await new Promise((r) => setTimeout(r, 100))
    t.same(expired, [1, 0])
    await new Promise((r) => setTimeout(r, 120))
    t.same(expired, [1, 0, 2], 'the refreshed one at its new deadline; the cleared one never')
    t.equal(d.size, 0)
    t.equal(items[2]!.deadlineSlot, -1)
    d.stop()
  },
)

void t.test('an expiry may set or clear other deadlines', async (t) => {
  const expired: number[] = []
  const d = new Deadlines()
  const b = item(expired, 2)
  const c = item(expired, 3)
  const a: Expiring = {
    deadlineAt: Number.POSITIVE_INFINITY,
    deadlineSlot: -1,
    expire: () => {
      expired.push(1)
      d.clear(b)
      d.set(c, Date.now() + 20)
    },
  }
  d.set(a, Date.now() + 10)
  d.set(b, Date.now() + 10)
  await new Promise((r) => setTimeout(r, 60))
  t.same(expired, [1, 3])
  d.stop()
})

void t.test('the heap stays ordered whatever the sets and clears', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 19 }), fc.option(fc.integer({ min: 1, max: 1000 }))), {
        maxLength: 200,
      }),
      (ops) => {
        const d = new Deadlines()
        const items = Array.from({ length: 20 }, (_, i) => item([], i))
        const model = new Map<number, number>()
        const base = Date.now() + 3_600_000
        for (const [i, at] of ops) {
          if (at === null) {
            d.clear(items[i]!)
            model.delete(i)
          } else {
            d.set(items[i]!, base + at)
            model.set(i, base + at)
          }
        }
        const heap = (d as unknown as { heap: Expiring[] }).heap
        d.stop()
        if (heap.length !== model.size) return false
        for (let k = 0; k < heap.length; k++) {
          if (heap[k]!.deadlineSlot !== k) return false
          if (k > 0 && heap[(k - 1) >> 1]!.deadlineAt > heap[k]!.deadlineAt) return false
        }
        return [...model].every(([i, at]) => items[i]!.deadlineAt === at)
      },
    ),
  )
  t.pass('ordered, indexed, and every deadline where it was set')
})
