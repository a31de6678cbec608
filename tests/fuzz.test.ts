/**
 * Schema-driven fuzzing over every route of the OpenAPI document: wrong types, missing
 * fields, unknown fields, huge strings, deep nesting, non-JSON bodies and odd path params.
 * Always a 4xx problem (never a 5xx), and nothing written.
 */
import t from 'tap'
import fc from 'fast-check'
import { build, call, type Json } from './helpers/app.js'
import { anAdmin } from './factories/users.js'
import type { OjaApp } from '../src/app.js'

const ODD_PARAMS = [
  'not-a-uuid',
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  "1' OR '1'='1",
  'x'.repeat(300),
  '00000000-0000-0000-0000-00000000000Z',
  '%F0%9F%98%80',
  '-1',
  '9'.repeat(40),
]

async function tableCounts(app: OjaApp): Promise<Record<string, number>> {
  const { rows } = (await app.db.raw(
    "select tablename from pg_tables where schemaname = 'public' and tablename not like 'knex_%'",
  )) as { rows: { tablename: string }[] }
  const out: Record<string, number> = {}
  for (const { tablename } of rows)
    out[tablename] = Number(((await app.db(tablename).count({ n: '*' }).first()) as { n: number }).n)
  return out
}

function deep(n: number): unknown {
  let v: unknown = 'x'
  for (let i = 0; i < n; i++) v = { a: v }
  return v
}

/** Bodies that can never satisfy a strict object schema. */
const invalidBody = fc.oneof(
  fc.record({ __fuzz_unknown_field: fc.anything() }),
  fc
    .anything()
    .filter((v) => typeof v !== 'object' || v === null || Array.isArray(v))
    .filter((v) => v !== undefined),
  fc.constant({ __fuzz_unknown_field: 'x'.repeat(200_000) }),
  fc.constant({ __fuzz_unknown_field: deep(500) }),
  fc
    .dictionary(fc.string({ maxLength: 5 }), fc.anything(), { minKeys: 1 })
    .map((d) => ({ ...d, __fuzz_unknown_field: 1 })),
)

void t.test('every route answers bad input with a 4xx problem and writes nothing', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const doc = (await call(app, 'GET', '/docs/json')).json
  const before = await tableCounts(app)
  const failures: string[] = []
  let requests = 0

  const check = async (method: string, url: string, opts: { body?: unknown; raw?: string; contentType?: string }) => {
    requests++
    const res = await app.inject({
      method: method.toUpperCase() as 'GET',
      url,
      headers: {
        authorization: `Bearer ${admin.accessToken}`,
        'idempotency-key': `fuzz-${requests}`,
        ...(opts.contentType ? { 'content-type': opts.contentType } : {}),
      },
      ...(opts.raw !== undefined
        ? { payload: opts.raw }
        : opts.body !== undefined
          ? { payload: JSON.stringify(opts.body) }
          : {}),
    })
    const where = `${method.toUpperCase()} ${url.slice(0, 120)} (${opts.contentType ?? 'no body'}) -> ${res.statusCode}`
    if (res.statusCode >= 500) failures.push(`${where}: ${res.body.slice(0, 200)}`)
    else if (res.statusCode >= 400) {
      let body: Json = {}
      try {
        body = res.json() as Json
      } catch {
        failures.push(`${where}: not JSON`)
      }
      if (!String(res.headers['content-type']).startsWith('application/problem+json') || typeof body.code !== 'string')
        failures.push(`${where}: not a problem`)
    } else if (method !== 'get' && method !== 'head') failures.push(`${where}: accepted invalid input`)
  }

  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
    if (path.startsWith('/docs') || path.includes('*')) continue
    for (const [method, op] of Object.entries(item)) {
      const params = ((op.parameters ?? []) as { in: string; name: string }[]).filter((p) => p.in === 'path')
      const fill = (value: string) => path.replace(/\{(\w+)\}/g, () => value)
      const validish = fill('00000000-0000-4000-8000-000000000000')
      // Odd path params.
      if (params.length > 0)
        for (const odd of ODD_PARAMS)
          await check(method, fill(odd), method === 'get' || method === 'delete' ? {} : { body: {} })
      if (method === 'get') await check(method, `${validish}?__fuzz_unknown=1&limit=-5&cursor=%%%`, {})
      if (method === 'get' || method === 'delete') continue
      // Invalid JSON bodies.
      await fc.assert(
        fc.asyncProperty(invalidBody, async (body) => {
          await check(method, validish, { body, contentType: 'application/json' })
        }),
        { numRuns: 12, seed: 42 },
      )
      // Non-JSON bodies.
      await check(method, validish, { raw: '{"unterminated": ', contentType: 'application/json' })
      await check(method, validish, { raw: '<xml/>', contentType: 'application/xml' })
      await check(method, validish, { raw: 'a=b', contentType: 'application/x-www-form-urlencoded' })
    }
  }
  t.ok(requests > 100, `sent ${requests} requests`)
  t.same(failures, [], 'every answer a 4xx problem')
  t.same(await tableCounts(app), before, 'nothing written')
})
