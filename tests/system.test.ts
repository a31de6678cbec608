import t from 'tap'
import { randomBytes } from 'node:crypto'
import { buildApp } from '../src/app.js'
import { ConfigError, loadConfig } from '../src/config.js'
import { build, call, testConfig } from './helpers/app.js'
import { databaseUrl, dropTestDatabase, withAdmin } from './helpers/pg.js'

void t.test('config: bad values name the variable; production needs JWT_SECRET', async (t) => {
  t.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError)
  t.throws(() => loadConfig({ PORT: 'eighty' }), /PORT: /)
  t.throws(() => loadConfig({ RATE_LIMIT_SCALE: '-1' }), /RATE_LIMIT_SCALE/)
  t.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/)
  t.throws(() => loadConfig({ NODE_ENV: 'production' }), /JWT_SECRET: required/)
  const c = loadConfig({ PORT: '4000', RATE_LIMIT_SCALE: '0', MIGRATE_ON_START: 'false', DATABASE_URL: '' })
  t.equal(c.PORT, 4000)
  t.equal(c.RATE_LIMIT_SCALE, 0)
  t.equal(c.MIGRATE_ON_START, false)
  t.equal(c.RESERVATION_TTL_SECONDS, 900)
  t.equal(c.seedDemo, true, 'demo data by default on embedded PGlite')
  t.equal(loadConfig({ DATABASE_URL: 'postgres://x/y' }).seedDemo, false)
})

void t.test('config: production refuses an argon2 cost below OWASP; the default is 19 MiB × 2', async (t) => {
  const secret = { NODE_ENV: 'production', JWT_SECRET: 'p'.repeat(40) }
  const cheap = /below OWASP argon2id minimums/
  t.throws(() => loadConfig({ ...secret, PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_PASSES: '1' }), cheap)
  t.throws(() => loadConfig({ ...secret, PASSWORD_HASH_MEMORY_KIB: '19456', PASSWORD_HASH_PASSES: '1' }), cheap)
  t.throws(() => loadConfig({ ...secret, PASSWORD_HASH_MEMORY_KIB: '6144', PASSWORD_HASH_PASSES: '10' }), cheap)
  t.doesNotThrow(() => loadConfig({ ...secret, PASSWORD_HASH_MEMORY_KIB: '47104', PASSWORD_HASH_PASSES: '1' }))
  t.doesNotThrow(() => loadConfig({ ...secret, PASSWORD_HASH_MEMORY_KIB: '9216', PASSWORD_HASH_PASSES: '4' }))
  const defaults = loadConfig(secret)
  t.same([defaults.PASSWORD_HASH_MEMORY_KIB, defaults.PASSWORD_HASH_PASSES], [19_456, 2])
  t.doesNotThrow(
    () => loadConfig({ PASSWORD_HASH_MEMORY_KIB: '1024', PASSWORD_HASH_PASSES: '1' }),
    'outside production',
  )
})

void t.test('health, readiness and the OpenAPI document', async (t) => {
  const app = await build(t)
  t.same((await call(app, 'GET', '/health')).json, { status: 'ok' })
  const ready = await call(app, 'GET', '/ready')
  t.equal(ready.statusCode, 200)
  t.same(ready.json, { status: 'ok', database: 'ok', redis: 'ok' })
  const doc = await call(app, 'GET', '/docs/json')
  t.equal(doc.statusCode, 200)
  t.equal(doc.json.openapi, '3.1.0')
  t.ok(doc.json.paths['/v1/auth/register'].post.requestBody, 'request bodies documented')
  t.ok(doc.json.paths['/v1/me'].get.security, 'auth documented')
  t.notOk(doc.json.paths['/v1/auth/login'].post.security, 'public routes carry no security')
  t.ok(doc.json.paths['/v1/me'].get.responses['401'], 'error answers documented')
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.ok(ui.statusCode === 200 || ui.statusCode === 302)
  t.ok(ready.headers['x-content-type-options'], 'security headers (helmet)')
})

void t.test('readiness reports a Redis outage', async (t) => {
  const app = await build(t, { REDIS_URL: 'redis://127.0.0.1:1' })
  const ready = await call(app, 'GET', '/ready')
  t.equal(ready.statusCode, 503)
  t.equal(ready.json.redis, 'down')
  t.equal(ready.json.database, 'ok')
})

void t.test('two nodes starting at once against one empty database', async (t) => {
  const name = `oja_t_${randomBytes(6).toString('hex')}`
  await withAdmin((c) => c.query(`create database ${name}`))
  t.teardown(() => dropTestDatabase(name))
  const config = testConfig({ name, url: databaseUrl(name) }, { MIGRATE_ON_START: true })
  const [a, b] = await Promise.all([buildApp(config, { background: false }), buildApp(config, { background: false })])
  t.teardown(async () => {
    await a.close()
    await b.close()
  })
  const migrations = await a.db('knex_migrations').select('name')
  const files = (await import('node:fs'))
    .readdirSync(new URL('../migrations/', import.meta.url))
    .filter((f) => f.endsWith('.ts'))
  t.equal(migrations.length, files.length, 'each migration applied exactly once')
  const roots = await call(b, 'GET', '/v1/categories')
  t.ok(roots.json.length >= 8, 'reference categories present once')
  const slugs = await a.db('categories').select('slug')
  t.equal(new Set(slugs.map((s) => s.slug)).size, slugs.length)
  const reg = await call(a, 'POST', '/v1/auth/register', {
    body: { email: 'node@test.oja', password: 'long enough pw', name: 'N' },
  })
  t.equal(reg.statusCode, 201)
  t.equal(
    (await call(b, 'GET', '/v1/me', { token: reg.json.accessToken })).statusCode,
    200,
    'a token from node A works on node B',
  )
})

void t.test('categories are a tree', async (t) => {
  const app = await build(t)
  const tree = await call(app, 'GET', '/v1/categories')
  const furniture = tree.json.find((c: { slug: string }) => c.slug === 'furniture')
  t.ok(furniture)
  t.ok(
    furniture.children.some(
      (c: { slug: string; parentId: string }) => c.slug === 'sofas-chairs' && c.parentId === furniture.id,
    ),
  )
})
