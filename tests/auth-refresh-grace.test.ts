import t from 'tap'
import { build, call, uniqueEmail } from './helpers/app.js'
import { aUser } from './factories/users.js'
import type { TestApp } from './helpers/app.js'

const refresh = (app: TestApp, refreshToken: string) =>
  call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken } })

/** Moves every rotation of the user's sessions `seconds` into the past (instead of sleeping). */
async function age(app: TestApp, userId: string, seconds: number) {
  await app
    .db('refresh_tokens')
    .whereIn('session_id', app.db('sessions').where('user_id', userId).select('id'))
    .whereNotNull('used_at')
    .update({ used_at: app.db.raw('used_at - make_interval(secs => ?)', [seconds]) })
}

void t.test('every token answer carries expiresIn, the access token lifetime', async (t) => {
  const app = await build(t, { ACCESS_TOKEN_TTL_SECONDS: 600 })
  const email = uniqueEmail()
  const reg = await call(app, 'POST', '/v1/auth/register', { body: { email, password: 'long enough pw', name: 'A' } })
  t.equal(reg.statusCode, 201)
  t.equal(reg.json.expiresIn, 600, 'register')
  const login = await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'long enough pw' } })
  t.equal(login.json.expiresIn, 600, 'login')
  const r = await refresh(app, login.json.refreshToken)
  t.equal(r.json.expiresIn, 600, 'refresh')
  const claims = JSON.parse(Buffer.from(r.json.accessToken.split('.')[1], 'base64url').toString())
  t.equal(claims.exp - claims.iat, 600, 'the JWT lives that long')
  const doc = (await call(app, 'GET', '/docs/json')).json
  const refreshRef = doc.paths['/v1/auth/refresh'].post.responses['200'].content['application/json'].schema.$ref
  const refreshSchema = doc.components.schemas[String(refreshRef).replace('#/components/schemas/', '')]
  t.ok(refreshSchema.properties.expiresIn, 'the OpenAPI document shows expiresIn')
})

void t.test('a retry with the rotated token within the grace window gets the current pair', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const first = await refresh(app, u.refreshToken)
  t.equal(first.statusCode, 200)
  // The answer was lost: the app retries with the token it still has.
  const retry = await refresh(app, u.refreshToken)
  t.equal(retry.statusCode, 200, retry.body)
  t.equal(retry.json.refreshToken, first.json.refreshToken, 'the same refresh token as the first answer')
  t.equal((await call(app, 'GET', '/v1/me', { token: retry.json.accessToken })).statusCode, 200)

  // Rotated on again: the oldest token, still within the window, follows to the newest.
  const second = await refresh(app, first.json.refreshToken)
  t.equal(second.statusCode, 200)
  const again = await refresh(app, u.refreshToken)
  t.equal(again.statusCode, 200)
  t.equal(again.json.refreshToken, second.json.refreshToken, "the session's current token")
  t.equal((await app.db('sessions').where('user_id', u.id).first()).revoked_at, null)

  // After the window the same replay revokes the family.
  await age(app, u.id, 31)
  const late = await refresh(app, u.refreshToken)
  t.equal(late.statusCode, 401)
  t.equal(late.json.code, 'REFRESH_TOKEN_REUSED')
  const session = await app.db('sessions').where('user_id', u.id).first()
  t.equal(session.revoked_reason, 'refresh_token_reuse')
  t.equal((await refresh(app, second.json.refreshToken)).statusCode, 401, 'the current token died with it')
  t.equal((await call(app, 'GET', '/v1/me', { token: again.json.accessToken })).json.code, 'SESSION_REVOKED')
})

void t.test(
  '10 parallel refreshes with one token: all 200, one new token, and reuse after the window revokes',
  async (t) => {
    const app = await build(t)
    const u = await aUser(app)
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(app, u.refreshToken)))
    t.same(
      results.map((r) => r.statusCode),
      Array(10).fill(200),
      results.find((r) => r.statusCode !== 200)?.body ?? 'all 200',
    )
    const [token, ...others] = new Set(results.map((r) => r.json.refreshToken as string))
    t.equal(others.length, 0, 'all the same refreshToken')
    t.equal((await app.db('sessions').where('user_id', u.id).first()).revoked_at, null, 'the session lives')
    const next = await refresh(app, token!)
    t.equal(next.statusCode, 200, 'that refresh token works')

    await age(app, u.id, 3600)
    const replay = await refresh(app, u.refreshToken)
    t.equal(replay.json.code, 'REFRESH_TOKEN_REUSED')
    t.equal((await refresh(app, next.json.refreshToken)).statusCode, 401)
  },
)

void t.test("one session's rotated token never answers for another session", async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const other = await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
  const a = await refresh(app, u.refreshToken)
  const b = await refresh(app, other.json.refreshToken)
  t.not(a.json.refreshToken, b.json.refreshToken)
  t.equal((await refresh(app, u.refreshToken)).json.refreshToken, a.json.refreshToken)
  t.equal((await refresh(app, other.json.refreshToken)).json.refreshToken, b.json.refreshToken)
})

void t.test('REFRESH_REUSE_GRACE_SECONDS=0: any reuse revokes at once', async (t) => {
  const app = await build(t, { REFRESH_REUSE_GRACE_SECONDS: 0 })
  const u = await aUser(app)
  t.equal((await refresh(app, u.refreshToken)).statusCode, 200)
  const reuse = await refresh(app, u.refreshToken)
  t.equal(reuse.json.code, 'REFRESH_TOKEN_REUSED')
})
