/**
 * Rewrites src/http/route-problems.ts from the problem codes a test run observed
 * (`OJA_RECORD_PROBLEMS=<file> npm test`, one `operationId<TAB>code` per line), merged with
 * the codes the table already lists. Codes every route shares (COMMON_CODES) are left out.
 * Usage: `npm run problems:update -- <file>`; review the diff like any other change.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { COMMON_CODES } from '../http/openapi.js'
import { ROUTE_PROBLEMS } from '../http/route-problems.js'

const file = process.argv[2]
if (!file) {
  console.error('usage: npm run problems:update -- <recorded file>')
  process.exit(2)
}
// Sign-in codes are kept: a route without auth (login, refresh) answers them as its own.
const shared = new Set<string>(COMMON_CODES)
const table = new Map<string, Set<string>>(Object.entries(ROUTE_PROBLEMS).map(([id, codes]) => [id, new Set(codes)]))
for (const line of (await readFile(file, 'utf8')).split('\n')) {
  const [id, code] = line.split('\t')
  if (!id || !code || shared.has(code)) continue
  const codes = table.get(id) ?? new Set<string>()
  codes.add(code)
  table.set(id, codes)
}
const target = fileURLToPath(new URL('../http/route-problems.ts', import.meta.url))
const source = await readFile(target, 'utf8')
const head = source.slice(0, source.indexOf('export const ROUTE_PROBLEMS'))
const body = [...table.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(
    ([id, codes]) =>
      `  ${id}: [${[...codes]
        .sort()
        .map((c) => `'${c}'`)
        .join(', ')}],`,
  )
  .join('\n')
await writeFile(target, `${head}export const ROUTE_PROBLEMS: Record<string, readonly string[]> = {\n${body}\n}\n`)
console.error(`${table.size} operations in ${target}`)
