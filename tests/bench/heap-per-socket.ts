/**
 * Memory per socket, in detail: `npx tsx tests/bench/heap-per-socket.ts [oja|bare] [pairs]`
 * starts one server as the chat bench does (tests/bench/scenarios/chat.ts, same roles),
 * connects both sides of `pairs` conversations to it (2 × pairs sockets, default 1 000)
 * after the bench's warm-up round, and prints heapUsed per 1 000 sockets after a GC. With
 * HEAP_DIFF=1 it also writes a heap snapshot before and after (to BENCH_PROF_DIR, default
 * a fresh /tmp directory) and prints what the sockets added, by node type and constructor
 * (count and bytes per socket): what to look at when the figure moves.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ask, child, seed, stop, type LoadPlan, type Mem } from './scenarios/chat.js'

type Snapshot = {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }
  nodes: number[]
  strings: string[]
}

/** Self size and count of a heap snapshot's nodes, by type and constructor. */
function census(file: string): Map<string, { count: number; bytes: number }> {
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot
  const fields = s.snapshot.meta.node_fields
  const types = s.snapshot.meta.node_types[0]
  const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [number, number, number]
  const named = new Set(['object', 'closure', 'native', 'hidden', 'code', 'array'])
  const out = new Map<string, { count: number; bytes: number }>()
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const t = types[s.nodes[i + type]!]!
    const key = named.has(t) ? `${t}: ${s.strings[s.nodes[i + name]!]!.slice(0, 50)}` : t
    const e = out.get(key) ?? { count: 0, bytes: 0 }
    e.count++
    e.bytes += s.nodes[i + size]!
    out.set(key, e)
  }
  return out
}

const mode = (process.argv[2] ?? 'oja') as 'oja' | 'bare'
const pairsCount = Number(process.argv[3] ?? 500)
const diff = process.env.HEAP_DIFF === '1'
const profDir = process.env.BENCH_PROF_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'oja-heap-'))
fs.mkdirSync(profDir, { recursive: true })

await import('../setup/template.js')
const { createTestDatabase, databaseUrl, dropTestDatabase, TEST_REDIS_URL } = await import('../helpers/pg.js')
const dbName = await createTestDatabase()
try {
  const pairs = await seed(databaseUrl(dbName), pairsCount)
  const server = child(mode, {
    BENCH_DATABASE_URL: databaseUrl(dbName),
    BENCH_REDIS_URL: TEST_REDIS_URL,
    BENCH_PREFIX: `oja-heap:${dbName}:`,
    ...(diff ? { BENCH_HEAP_SNAPSHOTS: '1', BENCH_PROF_DIR: profDir } : {}),
  })
  try {
    const { port } = await ask<{ port: number }>(server, 'ready')
    const url = `http://127.0.0.1:${port}`
    const load = child('load', {})
    const plan: LoadPlan = { mode, urls: [url, url], pairs, rate: 0, warmupMs: 0, durationMs: 0 }
    await ask(load, 'warmed', plan)
    const before = await ask<Mem>(server, 'mem', { type: 'mem' })
    const { sockets } = await ask<{ sockets: number }>(load, 'connected', { type: 'connect' })
    const after = await ask<Mem>(server, 'mem', { type: 'mem' })
    load.kill()
    const perSocket = (after.heapUsed - before.heapUsed) / sockets
    console.log(
      `${mode}: ${sockets} sockets on one node; heap ${((perSocket * 1000) / 2 ** 20).toFixed(2)} MB per 1 000 (${perSocket.toFixed(0)} bytes per socket)`,
    )
    if (diff) {
      const files = fs
        .readdirSync(profDir)
        .filter((f) => f.startsWith(`${mode}-`) && f.endsWith('.heapsnapshot'))
        .sort()
        .map((f) => path.join(profDir, f))
      const [a, b] = [census(files.at(-2)!), census(files.at(-1)!)]
      const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => {
        const x = a.get(k) ?? { count: 0, bytes: 0 }
        const y = b.get(k) ?? { count: 0, bytes: 0 }
        return { k, count: y.count - x.count, bytes: y.bytes - x.bytes }
      })
      rows.sort((p, q) => q.bytes - p.bytes)
      const total = rows.reduce((n, r) => n + r.bytes, 0)
      console.log(`snapshot diff: ${(total / sockets).toFixed(0)} bytes per socket (${files.at(-2)}, ${files.at(-1)})`)
      for (const r of rows.slice(0, 40))
        console.log(`${(r.bytes / sockets).toFixed(1).padStart(8)} B/socket ${String(r.count).padStart(7)}  ${r.k}`)
    }
  } finally {
    await stop(server)
  }
} finally {
  await dropTestDatabase(dbName)
}
process.exit(0)
