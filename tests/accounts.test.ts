import t from 'tap'
import { build, call, uniqueEmail } from './helpers/app.js'
import { aUser } from './factories/users.js'

void t.test('register, login, me', async (t) => {
  const app = await build(t)
  const email = uniqueEmail()
  const reg = await call(app, 'POST', '/v1/auth/register', {
    body: { email: email.toUpperCase(), password: 'long enough pw', name: ' Ada ' },
  })
  t.equal(reg.statusCode, 201)
  t.equal(reg.json.user.email, email, 'email stored lower-cased')
  t.equal(reg.json.user.name, 'Ada')
  t.equal(reg.json.user.emailVerified, false)
  t.equal(reg.json.user.role, 'user')
  t.ok(reg.json.accessToken && reg.json.refreshToken)
  t.notOk('passwordHash' in reg.json.user, 'no password hash leaks')

  const dup = await call(app, 'POST', '/v1/auth/register', { body: { email, password: 'another pw 123', name: 'B' } })
  t.equal(dup.statusCode, 409)
  t.equal(dup.json.code, 'EMAIL_TAKEN')
  t.equal(dup.headers['content-type'], 'application/problem+json; charset=utf-8')

  const login = await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'long enough pw' } })
  t.equal(login.statusCode, 200)
  const me = await call(app, 'GET', '/v1/me', { token: login.json.accessToken })
  t.equal(me.statusCode, 200)
  t.equal(me.json.id, reg.json.user.id)

  const wrong = await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'wrong password' } })
  const unknown = await call(app, 'POST', '/v1/auth/login', {
    body: { email: uniqueEmail(), password: 'wrong password' },
  })
  t.equal(wrong.statusCode, 401)
  t.equal(unknown.statusCode, 401)
  t.same(
    { ...wrong.json, instance: undefined },
    { ...unknown.json, instance: undefined },
    'unknown email and wrong password answer the same',
  )
})

void t.test('bad input is a clear problem and changes nothing', async (t) => {
  const app = await build(t)
  const before = Number((await app.db('users').count({ n: '*' }).first())?.n)
  const cases: [unknown, string][] = [
    [{ email: 'not-an-email', password: 'long enough pw', name: 'A' }, '/body/email'],
    [{ email: uniqueEmail(), password: 'short', name: 'A' }, '/body/password'],
    [{ email: uniqueEmail(), password: 'long enough pw' }, '/body/name'],
    [{ email: uniqueEmail(), password: 'long enough pw', name: 'A', role: 'admin' }, '/body/role'],
  ]
  for (const [body, path] of cases) {
    const res = await call(app, 'POST', '/v1/auth/register', { body })
    t.equal(res.statusCode, 400, `400 for ${path}`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
    t.ok(
      res.json.errors.some((e: { path: string }) => e.path === path),
      `names ${path}: ${JSON.stringify(res.json.errors)}`,
    )
  }
  const malformed = await call(app, 'POST', '/v1/auth/register', { body: '{"email": ' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json.code, 'MALFORMED_JSON')
  const proto = await call(app, 'POST', '/v1/auth/register', {
    body: '{"__proto__": {"x": 1}, "email": "a@b.co", "password": "long enough pw", "name": "A"}',
  })
  t.equal(proto.statusCode, 400)
  const huge = await call(app, 'POST', '/v1/auth/register', {
    body: { email: uniqueEmail(), password: 'long enough pw', name: 'x'.repeat(2_000_000) },
  })
  t.equal(huge.statusCode, 413)
  t.equal(huge.json.code, 'PAYLOAD_TOO_LARGE')
  const text = await app.inject({
    method: 'POST',
    url: '/v1/auth/register',
    headers: { 'content-type': 'text/plain' },
    payload: 'hello',
  })
  t.equal(text.statusCode, 415)
  t.equal(text.json().code, 'UNSUPPORTED_MEDIA_TYPE')
  const nf = await call(app, 'GET', '/v1/nope')
  t.equal(nf.statusCode, 404)
  t.equal(nf.json.code, 'NOT_FOUND')
  t.ok(nf.headers['x-request-id'], 'request id returned')
  const after = Number((await app.db('users').count({ n: '*' }).first())?.n)
  t.equal(after, before, 'no user written')
})

void t.test('refresh rotates; reuse revokes the whole family', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const r1 = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })
  t.equal(r1.statusCode, 200)
  t.not(r1.json.refreshToken, u.refreshToken)
  const r2 = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: r1.json.refreshToken } })
  t.equal(r2.statusCode, 200)
  // The first token again, after the grace window: a thief or a replay.
  await app
    .db('refresh_tokens')
    .whereNotNull('used_at')
    .update({ used_at: app.db.raw("used_at - interval '1 hour'") })
  const reuse = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json.code, 'REFRESH_TOKEN_REUSED')
  const latest = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: r2.json.refreshToken } })
  t.equal(latest.statusCode, 401, 'the newest token of the family is dead too')
  const me = await call(app, 'GET', '/v1/me', { token: r2.json.accessToken })
  t.equal(me.statusCode, 401, 'access tokens of the family stop at once')
  t.equal(me.json.code, 'SESSION_REVOKED')
  const garbage = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: 'x'.repeat(43) } })
  t.equal(garbage.json.code, 'INVALID_REFRESH_TOKEN')
})

void t.test('concurrent refresh of one token: all get the same new pair, the session lives', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const results = await Promise.all(
    Array.from({ length: 10 }, () => call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })),
  )
  t.same(
    results.map((r) => r.statusCode),
    Array(10).fill(200),
    results.find((r) => r.statusCode !== 200)?.body ?? 'all 200',
  )
  const tokens = new Set(results.map((r) => r.json.refreshToken))
  t.equal(tokens.size, 1, 'every answer carries the same refresh token')
  t.not([...tokens][0], u.refreshToken)
  t.equal(
    Number(
      (
        await app
          .db('refresh_tokens as r')
          .join('sessions as s', 's.id', 'r.session_id')
          .where('s.user_id', u.id)
          .count({ n: '*' })
          .first()
      )?.n,
    ),
    2,
    'one rotation, not ten',
  )
  const session = await app.db('sessions').where('user_id', u.id).first()
  t.equal(session.revoked_at, null, 'the session lives')
  for (const r of results) t.equal((await call(app, 'GET', '/v1/me', { token: r.json.accessToken })).statusCode, 200)
  const next = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: [...tokens][0] } })
  t.equal(next.statusCode, 200, 'the shared new token works')
  t.not(next.json.refreshToken, [...tokens][0])
})

void t.test('logout ends the session at once', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const out = await call(app, 'POST', '/v1/auth/logout', { body: { refreshToken: u.refreshToken } })
  t.equal(out.statusCode, 204)
  t.equal((await call(app, 'GET', '/v1/me', { token: u.accessToken })).statusCode, 401)
  t.equal((await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).statusCode, 401)
})

void t.test('expired and forged access tokens', async (t) => {
  const app = await build(t, { ACCESS_TOKEN_TTL_SECONDS: 30 })
  const u = await aUser(app)
  const claims = app.jwt.decode<{ sub: string; sid: string; role: 'user' }>(u.accessToken)!
  const expired = app.jwt.sign({ sub: claims.sub, sid: claims.sid, role: 'user' }, {
    expiresIn: 1,
    notBefore: 0,
  } as never)
  await new Promise((r) => setTimeout(r, 1100))
  const res = await call(app, 'GET', '/v1/me', { token: expired })
  t.equal(res.statusCode, 401)
  t.equal(res.json.code, 'TOKEN_EXPIRED')
  const forged = u.accessToken.slice(0, -3) + 'abc'
  t.equal((await call(app, 'GET', '/v1/me', { token: forged })).json.code, 'UNAUTHENTICATED')
  const selfAdmin = app.jwt.sign({ sub: claims.sub, sid: claims.sid, role: 'admin' as never })
  // A token claiming admin is still checked against the database role.
  const adminTry = await call(app, 'GET', '/v1/me', { token: selfAdmin })
  t.equal(adminTry.json.role, 'user')
  t.equal((await call(app, 'GET', '/v1/me', { headers: { authorization: 'Basic abc' } })).statusCode, 401)
})

void t.test('email verification: single use, expiring', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const mail = await app.db('mail_outbox').where('to_address', u.email).first()
  t.ok(mail, 'verification mail queued in the same transaction')
  const token = /token=([\w-]+)/.exec(mail.text_body)![1]!
  const ok = await call(app, 'POST', '/v1/auth/verify-email', { body: { token } })
  t.equal(ok.statusCode, 200)
  t.equal(ok.json.emailVerified, true)
  const again = await call(app, 'POST', '/v1/auth/verify-email', { body: { token } })
  t.equal(again.statusCode, 400)
  t.equal(again.json.code, 'INVALID_TOKEN')
  const resend = await call(app, 'POST', '/v1/auth/resend-verification', { token: u.accessToken })
  t.equal(resend.json.code, 'ALREADY_VERIFIED')

  const v = await aUser(app)
  const resend2 = await call(app, 'POST', '/v1/auth/resend-verification', { token: v.accessToken, body: {} })
  t.equal(resend2.statusCode, 202, 'accepts {} as an empty body')
  await app
    .db('user_tokens')
    .where('purpose', 'verify_email')
    .update({ expires_at: new Date(Date.now() - 1000) })
  const vmail = await app.db('mail_outbox').where('to_address', v.email).orderBy('created_at', 'desc').first()
  const expired = await call(app, 'POST', '/v1/auth/verify-email', {
    body: { token: /token=([\w-]+)/.exec(vmail.text_body)![1] },
  })
  t.equal(expired.json.code, 'INVALID_TOKEN')
})

void t.test('forgot and reset password', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const unknown = await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: uniqueEmail() } })
  t.equal(unknown.statusCode, 202, 'unknown email: 202 all the same')
  const res = await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email } })
  t.equal(res.statusCode, 202)
  const mail = await app.db('mail_outbox').where('to_address', u.email).andWhere('subject', 'like', '%Reset%').first()
  const token = /token=([\w-]+)/.exec(mail.text_body)![1]!
  const weak = await call(app, 'POST', '/v1/auth/reset-password', { body: { token, password: 'short' } })
  t.equal(weak.statusCode, 400)
  const reset = await call(app, 'POST', '/v1/auth/reset-password', {
    body: { token, password: 'a brand new password' },
  })
  t.equal(reset.statusCode, 204)
  t.equal((await call(app, 'GET', '/v1/me', { token: u.accessToken })).statusCode, 401, 'old sessions ended')
  t.equal(
    (await call(app, 'POST', '/v1/auth/reset-password', { body: { token, password: 'yet another password' } })).json
      .code,
    'INVALID_TOKEN',
    'single use',
  )
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).statusCode,
    401,
  )
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'a brand new password' } }))
      .statusCode,
    200,
  )
})

void t.test('profile, public profile', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const patched = await call(app, 'PATCH', '/v1/me', {
    token: u.accessToken,
    body: { bio: 'Selling my sofa', location: 'Lagos' },
  })
  t.equal(patched.statusCode, 200)
  t.equal(patched.json.bio, 'Selling my sofa')
  t.equal(
    (await call(app, 'PATCH', '/v1/me', { token: u.accessToken, body: { email: 'x@y.z' } })).statusCode,
    400,
    'email cannot be patched',
  )
  t.equal((await call(app, 'PATCH', '/v1/me', { token: u.accessToken, body: {} })).statusCode, 400)
  const pub = await call(app, 'GET', `/v1/users/${u.id}`)
  t.equal(pub.statusCode, 200)
  t.same(Object.keys(pub.json).sort(), [
    'activeListings',
    'avatarUrl',
    'bio',
    'createdAt',
    'id',
    'location',
    'name',
    'rating',
  ])
  t.equal((await call(app, 'GET', '/v1/users/not-a-uuid')).statusCode, 400)
  t.equal((await call(app, 'GET', '/v1/users/00000000-0000-4000-8000-000000000000')).statusCode, 404)
})

void t.test('addresses: default handling and ownership', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const other = await aUser(app)
  const base = { fullName: 'Ada O', phone: '+234 801 234 5678', line1: '1 Allen Ave', city: 'Ikeja', state: 'Lagos' }
  const a1 = await call(app, 'POST', '/v1/me/addresses', { token: u.accessToken, body: base })
  t.equal(a1.statusCode, 201)
  t.equal(a1.json.isDefault, true, 'first address is the default')
  t.equal(a1.json.country, 'NG')
  const a2 = await call(app, 'POST', '/v1/me/addresses', {
    token: u.accessToken,
    body: { ...base, line1: '2 Broad St', isDefault: true },
  })
  t.equal(a2.json.isDefault, true)
  const list = await call(app, 'GET', '/v1/me/addresses', { token: u.accessToken })
  t.equal(list.json.filter((a: { isDefault: boolean }) => a.isDefault).length, 1, 'one default')
  t.equal(
    (await call(app, 'POST', '/v1/me/addresses', { token: u.accessToken, body: { ...base, country: 'Nigeria' } }))
      .statusCode,
    400,
  )
  t.equal(
    (await call(app, 'PATCH', `/v1/me/addresses/${a1.json.id}`, { token: other.accessToken, body: { city: 'Yaba' } }))
      .statusCode,
    404,
    'another user cannot edit',
  )
  t.equal(
    (await call(app, 'DELETE', `/v1/me/addresses/${a1.json.id}`, { token: other.accessToken })).statusCode,
    404,
    'another user cannot delete',
  )
  const edited = await call(app, 'PATCH', `/v1/me/addresses/${a1.json.id}`, {
    token: u.accessToken,
    body: { city: 'Yaba' },
  })
  t.equal(edited.json.city, 'Yaba')
  t.equal((await call(app, 'DELETE', `/v1/me/addresses/${a2.json.id}`, { token: u.accessToken })).statusCode, 204)
  const after = await call(app, 'GET', '/v1/me/addresses', { token: u.accessToken })
  t.equal(after.json.length, 1)
  t.equal(after.json[0].isDefault, true, 'remaining address became the default')
  t.equal((await call(app, 'GET', '/v1/me/addresses')).statusCode, 401)
})

void t.test('blocks', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const v = await aUser(app)
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${v.id}`, { token: u.accessToken })).statusCode, 204)
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${v.id}`, { token: u.accessToken })).statusCode, 204, 'idempotent')
  t.equal((await call(app, 'GET', '/v1/me/blocks', { token: u.accessToken })).json.length, 1)
  t.equal((await call(app, 'PUT', `/v1/me/blocks/${u.id}`, { token: u.accessToken })).json.code, 'CANNOT_BLOCK_SELF')
  t.equal(
    (await call(app, 'PUT', '/v1/me/blocks/00000000-0000-4000-8000-000000000000', { token: u.accessToken })).statusCode,
    404,
  )
  t.equal((await call(app, 'DELETE', `/v1/me/blocks/${v.id}`, { token: u.accessToken })).statusCode, 204)
  t.equal((await call(app, 'GET', '/v1/me/blocks', { token: u.accessToken })).json.length, 0)
})

void t.test('a banned user is stopped at once and cannot sign in', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  await app.db('users').where('id', u.id).update({ banned_at: new Date() })
  const me = await call(app, 'GET', '/v1/me', { token: u.accessToken })
  t.equal(me.statusCode, 403)
  t.equal(me.json.code, 'ACCOUNT_BANNED')
  const login = await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
  t.equal(login.statusCode, 403)
  t.equal((await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).statusCode, 403)
  t.equal((await call(app, 'GET', `/v1/users/${u.id}`)).statusCode, 404, 'banned profile hidden')
})

void t.test('rate limits: login failures per account+IP, register per IP', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const u = await aUser(app)
  for (let i = 0; i < 10; i++) {
    const r = await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } })
    t.equal(r.statusCode, 401)
  }
  const limited = await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
  t.equal(limited.statusCode, 429, 'even the right password waits')
  t.equal(limited.json.code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After set')
  const elsewhere = await app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    remoteAddress: '10.9.9.9',
    payload: { email: u.email, password: u.password },
  })
  t.equal(elsewhere.statusCode, 200, 'no lock-out of the account from another IP')

  for (let i = 0; i < 19; i++)
    await call(app, 'POST', '/v1/auth/register', {
      body: { email: uniqueEmail(), password: 'long enough pw', name: 'R' },
    })
  const reg = await call(app, 'POST', '/v1/auth/register', {
    body: { email: uniqueEmail(), password: 'long enough pw', name: 'R' },
  })
  t.equal(reg.statusCode, 429)
  t.equal(reg.json.code, 'RATE_LIMITED')
  t.ok(reg.headers['retry-after'])
})

void t.test('forgot-password is limited per account', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const u = await aUser(app)
  for (let i = 0; i < 5; i++)
    t.equal((await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email } })).statusCode, 202)
  const sixth = await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email.toUpperCase() } })
  t.equal(sixth.statusCode, 429)
  t.equal(
    (await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: uniqueEmail() } })).statusCode,
    202,
    'another account is not affected',
  )
})
