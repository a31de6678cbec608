import { randomBytes } from 'node:crypto'
import { appendFileSync } from 'node:fs'
import type { Test } from 'tap'
import type { InjectOptions, LightMyRequestResponse } from 'fastify'
import { buildApp, type BuildOptions, type OjaApp } from '../../src/app.js'
import type { Knex } from '../../src/db/index.js'
import { loadConfig, type Config, type Env } from '../../src/config.js'
import { allowedCodes, observeProblems } from '../../src/http/index.js'
import { createTestDatabase, databaseUrl, dropTestDatabase, TEST_REDIS_URL } from './pg.js'

export type TestDb = { name: string; url: string }

/**
 * Every problem a test's request gets must carry a code its route declares (the OpenAPI
 * document lists them, from src/http/route-problems.ts). With OJA_RECORD_PROBLEMS=<file>, the
 * codes are written there instead (`npm run problems:record` regenerates the table).
 */
const undeclared: string[] = []
observeProblems((req, problem) => {
  const id = (req.routeOptions.schema as { operationId?: unknown } | undefined)?.operationId
  if (typeof id !== 'string') return
  const recordTo = process.env.OJA_RECORD_PROBLEMS
  if (recordTo) {
    appendFileSync(recordTo, `${id}\t${problem.code}\n`)
    return
  }
  if (!allowedCodes(id, req.routeOptions.config?.auth).has(problem.code))
    undeclared.push(`${req.method} ${req.routeOptions.url} (${id}) answered ${problem.status} ${problem.code}`)
})

/** A teardown that throws stops the ones after it: the app is closed first. */
async function checkDeclaredProblems(app: OjaApp): Promise<void> {
  const found = undeclared.splice(0)
  if (found.length === 0) return
  await app.close()
  throw new Error(`problem codes not declared for their routes (src/http/route-problems.ts):\n${found.join('\n')}`)
}

/** A fresh database cloned from the migrated template, dropped when the test ends. */
export async function testDatabase(t: Test): Promise<TestDb> {
  const name = await createTestDatabase()
  t.teardown(() => dropTestDatabase(name))
  return { name, url: databaseUrl(name) }
}

export function testConfig(db: TestDb, overrides: Partial<Env> = {}, prefix = `oja-test:${db.name}:`): Config {
  return loadConfig(
    {},
    {
      NODE_ENV: 'test',
      LOG_LEVEL: (process.env.TEST_LOG_LEVEL as Env['LOG_LEVEL']) ?? 'silent',
      DATABASE_URL: db.url,
      DATABASE_POOL_MAX: 5,
      DATABASE_READ_POOL_MAX: 3,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      JWT_SECRET: 'test-secret-test-secret-test-secret-0123',
      RATE_LIMIT_SCALE: 0,
      MIGRATE_ON_START: false,
      SEED_DEMO: false,
      PUBLIC_URL: 'http://oja.test',
      // The race tests send hundreds of requests at a pool of 5 on purpose; admission control
      // has its own test (tests/overload.test.ts).
      ADMISSION_DB_QUEUE: 0,
      ADMISSION_EVENT_LOOP_DELAY_MS: 0,
      CHAT_SEND_MAX_WAIT_MS: 0,
      CHAT_SEND_QUEUE: 0,
      // New password hashes at argon2's least cost (0.7 ms instead of 25): the suite registers
      // thousands of users. The password-storm test sets the production cost back, and a
      // production config keeps it (production refuses less).
      ...(overrides.NODE_ENV === 'production' ? {} : { PASSWORD_HASH_MEMORY_KIB: 1024, PASSWORD_HASH_PASSES: 1 }),
      ...overrides,
    },
  )
}

/**
 * The test's handle on the database: tests read and seed rows loosely (any table, any
 * shape), and their assertions are the check; the application's code gets the typed tables.
 */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type -- Knex's own untyped signature */
export type LooseDb = (<TRecord extends {} = any, TResult = any[]>(
  table: string,
) => Knex.QueryBuilder<TRecord, TResult>) &
  Knex
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type */

export type TestApp = Omit<OjaApp, 'db'> & { db: LooseDb; testDb: TestDb }

/** buildApp on a fresh database with real PostgreSQL and Redis; closed when the test ends. */
export async function build(
  t: Test,
  overrides: Partial<Env> = {},
  options: BuildOptions & { db?: never; testDb?: TestDb } = {},
): Promise<TestApp> {
  const testDb = options.testDb ?? (await testDatabase(t))
  const app = await buildApp(testConfig(testDb, overrides), { background: false, ...options })
  t.teardown(() => app.close())
  t.teardown(() => checkDeclaredProblems(app))
  await app.ready()
  return Object.assign(app as Omit<OjaApp, 'db'> & { db: LooseDb }, { testDb })
}

export type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** app.inject with a JSON body and optional bearer token; returns the response and its parsed body. */
export async function call(
  app: OjaApp,
  method: InjectOptions['method'],
  url: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<LightMyRequestResponse & { body: string; json: Json }> {
  const res = await app.inject({
    method,
    url,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    ...(opts.body !== undefined
      ? { payload: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) }
      : {}),
  })
  let json: Json
  try {
    json = res.body ? (JSON.parse(res.body) as Json) : {}
  } catch {
    json = {}
  }
  return Object.assign(res, { json })
}

export const uniqueEmail = (tag = 'user') => `${tag}-${randomBytes(5).toString('hex')}@test.oja`
