/**
 * Regressions of the outside review (hardening issue), accounts and limits: password reset,
 * limits without Redis, tokens in caches and logs, the login count under concurrency, and
 * the characters a name may hold. Each test failed on the code before its fix.
 */
import t from 'tap'
import { Writable } from 'node:stream'
import pino from 'pino'
import * as argon2 from '@node-rs/argon2'
import { assertSafeToServe, loadConfig } from '../src/config.js'
import { LoginLimiter } from '../src/accounts/index.js'
import type { OjaApp } from '../src/app.js'
import type * as AccountsServiceModule from '../src/accounts/accounts.service.js'
import { build, call, testDatabase, uniqueEmail, type Json, type TestApp } from './helpers/app.js'
import { TEST_REDIS_URL } from './helpers/pg.js'
import { tcpProxy } from './helpers/tcp-proxy.js'
import { startNode } from './helpers/nodes.js'
import { aUser } from './factories/users.js'
import { listingBody } from './factories/catalogue.js'

/** A request from a given client address (app.inject's peer), as call() answers it. */
async function from(ip: string, app: OjaApp, method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) {
  const res = await app.inject({
    method,
    url,
    remoteAddress: ip,
    ...(body !== undefined ? { payload: body as Json } : {}),
  })
  return { statusCode: res.statusCode, headers: res.headers, json: (res.body ? JSON.parse(res.body) : {}) as Json }
}

/** Asks for a reset link and returns the token the mail carries (the newest mail of the address). */
async function resetToken(app: TestApp, email: string): Promise<string> {
  const res = await call(app, 'POST', '/v1/auth/forgot-password', { body: { email } })
  if (res.statusCode !== 202) throw new Error(`forgot-password: ${res.statusCode} ${res.body}`)
  const mail = await app
    .db('mail_outbox')
    .where('to_address', email)
    .andWhere('subject', 'like', '%Reset%')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .first('text_body')
  return /token=([\w-]+)/.exec(mail.text_body)![1]!
}

/** A pino logger whose lines the test can read. */
function capturedLogger() {
  const lines: string[] = []
  const logger = pino(
    { level: 'info' },
    new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }),
  )
  return { logger, lines }
}

// ---------------------------------------------------------------------------------------------
// 12. Password reset
// ---------------------------------------------------------------------------------------------

void t.test('a successful reset spends every other reset link of the account and ends its sessions', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const other = await aUser(app)
  const first = await resetToken(app, u.email)
  const second = await resetToken(app, u.email)
  const othersLink = await resetToken(app, other.email)

  const reset = await call(app, 'POST', '/v1/auth/reset-password', {
    body: { token: second, password: 'the new password' },
  })
  t.equal(reset.statusCode, 204, reset.body)

  const older = await call(app, 'POST', '/v1/auth/reset-password', {
    body: { token: first, password: 'an attacker pw' },
  })
  t.equal(older.statusCode, 400, 'the older link no longer works')
  t.equal(older.json.code, 'INVALID_TOKEN')
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'an attacker pw' } })).statusCode,
    401,
    'and changed nothing',
  )
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'the new password' } })).statusCode,
    200,
    'the password set by the successful reset holds',
  )
  t.equal((await call(app, 'GET', '/v1/me', { token: u.accessToken })).json.code, 'SESSION_REVOKED', 'sessions ended')
  t.equal(
    (await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: u.refreshToken } })).statusCode,
    401,
    'refresh tokens too',
  )

  // Another account's link and session are untouched.
  t.equal((await call(app, 'GET', '/v1/me', { token: other.accessToken })).statusCode, 200)
  const othersReset = await call(app, 'POST', '/v1/auth/reset-password', {
    body: { token: othersLink, password: 'others new password' },
  })
  t.equal(othersReset.statusCode, 204, "another account's link still works")
})

void t.test('two links of one account used at once: one reset wins, the other is refused', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const a = await resetToken(app, u.email)
  const b = await resetToken(app, u.email)
  const [ra, rb] = await Promise.all([
    call(app, 'POST', '/v1/auth/reset-password', { body: { token: a, password: 'password from a' } }),
    call(app, 'POST', '/v1/auth/reset-password', { body: { token: b, password: 'password from b' } }),
  ])
  t.same([ra.statusCode, rb.statusCode].sort(), [204, 400], `one wins: ${ra.body} ${rb.body}`)
  const loser = ra.statusCode === 400 ? ra : rb
  t.equal(loser.json.code, 'INVALID_TOKEN', 'the other is an invalid link, not a 5xx')
  const winner = ra.statusCode === 204 ? 'password from a' : 'password from b'
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: winner } })).statusCode,
    200,
    "the winner's password is the one set",
  )
  t.equal(
    Number(
      (
        await app
          .db('user_tokens')
          .where({ user_id: u.id, purpose: 'reset_password' })
          .whereNull('used_at')
          .count({ n: '*' })
          .first()
      )?.n,
    ),
    0,
    'no reset link of the account is left',
  )
})

void t.test('in production the server refuses to start without SMTP_URL', async (t) => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://x/y',
    JWT_SECRET: 'k'.repeat(32),
    PAYSTACK_SECRET_KEY: 'sk_live_x',
  }
  t.throws(() => assertSafeToServe(loadConfig(production)), /SMTP_URL: required when NODE_ENV=production/)
  t.doesNotThrow(() => assertSafeToServe(loadConfig({ ...production, SMTP_URL: 'smtp://mail.internal:587' })))
  t.doesNotThrow(() => assertSafeToServe(loadConfig({})), 'development may log its mail')
})

void t.test('a mail written to the log instead of sent has its link token redacted', async (t) => {
  const { logger, lines } = capturedLogger()
  const app = await build(t, {}, { logger })
  const u = await aUser(app)
  const token = await resetToken(app, u.email)
  const sent = await app.mail.deliverDue()
  t.ok(sent >= 2, 'the verification and reset mails were delivered (to the log)')
  const mailLines = lines.filter((l) => l.includes('no SMTP_URL'))
  t.ok(
    mailLines.some((l) => l.includes('reset-password?token=[redacted]')),
    'the reset link is logged without its token',
  )
  t.ok(
    mailLines.some((l) => l.includes('verify-email?token=[redacted]')),
    'so is the verification link',
  )
  t.notOk(
    lines.some((l) => l.includes(token)),
    'the reset token appears in no log line',
  )
  // The outbox keeps the real link (operators can read it there on a development box).
  const row = await app.db('mail_outbox').where('to_address', u.email).andWhere('subject', 'like', '%Reset%').first()
  t.match(row.text_body, token)
})

void t.test('reset-password checks the token before hashing the new password', async (t) => {
  const hashed: string[] = []
  const { createAccountsService } = await t.mockImport<typeof AccountsServiceModule>(
    '../src/accounts/accounts.service.js',
    {
      '@node-rs/argon2': {
        ...argon2,
        hash: (password: string, opts?: argon2.Options) => {
          hashed.push(password)
          return argon2.hash(password, opts)
        },
      },
    },
  )
  const app = await build(t)
  const accounts = createAccountsService({
    config: app.config,
    spine: app.spine,
    signAccess: (claims) => app.jwt.sign(claims),
    loginLimiter: new LoginLimiter({ scale: 0, prefix: '' }),
    mailQueued: () => {},
    profileExtras: async () => ({ rating: { average: null, count: 0 }, activeListings: 0 }),
  })
  const ctx = { db: app.db, log: app.log }

  await t.rejects(accounts.resetPassword(ctx, 'x'.repeat(43), 'guessed token password'), { code: 'INVALID_TOKEN' })
  t.notOk(hashed.includes('guessed token password'), 'an unknown token costs no argon2 run')

  const u = await aUser(app)
  const token = await resetToken(app, u.email)
  await accounts.resetPassword(ctx, token, 'a real new password')
  t.same(
    hashed.filter((p) => p === 'a real new password'),
    ['a real new password'],
    'a valid token gets its password hashed, once',
  )
  await t.rejects(accounts.resetPassword(ctx, token, 'spent token password'), { code: 'INVALID_TOKEN' })
  t.notOk(hashed.includes('spent token password'), 'neither does a spent one')
})

void t.test('reset-password is limited per IP', async (t) => {
  // 20 per IP per 15 minutes; at scale 0.25 that is 5.
  const app = await build(t, { RATE_LIMIT_SCALE: 0.25 })
  const codes: number[] = []
  for (let i = 0; i < 6; i++) {
    const res = await from('198.51.100.20', app, 'POST', '/v1/auth/reset-password', {
      token: `guess-${i}-${'x'.repeat(40)}`,
      password: 'a guessed password',
    })
    codes.push(res.statusCode)
  }
  t.same(codes, [400, 400, 400, 400, 400, 429], 'wrong tokens are refused, then the client is limited')
  const u = await aUser(app)
  const token = await resetToken(app, u.email)
  const elsewhere = await from('198.51.100.21', app, 'POST', '/v1/auth/reset-password', {
    token,
    password: 'the rightful new password',
  })
  t.equal(elsewhere.statusCode, 204, 'another client is not limited')
})

void t.test(
  'forgot-password: nobody can use up a victim’s allowance from elsewhere; one IP cannot mail everyone',
  async (t) => {
    const app = await build(t, { RATE_LIMIT_SCALE: 1 })
    const victim = await aUser(app)
    const resetMails = async () =>
      Number(
        (
          await app
            .db('mail_outbox')
            .where('to_address', victim.email)
            .andWhere('subject', 'like', '%Reset%')
            .count({ n: '*' })
            .first()
        )?.n,
      )

    const attacker = '203.0.113.66'
    const codes: number[] = []
    for (let i = 0; i < 6; i++)
      codes.push((await from(attacker, app, 'POST', '/v1/auth/forgot-password', { email: victim.email })).statusCode)
    t.same(codes, [202, 202, 202, 202, 202, 429], 'the attacker is limited on this account')
    const mailsBefore = await resetMails()
    const own = await from('198.51.100.30', app, 'POST', '/v1/auth/forgot-password', {
      email: victim.email.toUpperCase(),
    })
    t.equal(own.statusCode, 202, 'the victim, from their own address, is not')
    t.equal(await resetMails(), mailsBefore + 1, 'and gets a reset mail')

    // One client, many accounts: 20 per IP per hour, whatever the emails.
    const spammer = '203.0.113.77'
    const spam: number[] = []
    for (let i = 0; i < 21; i++)
      spam.push(
        (await from(spammer, app, 'POST', '/v1/auth/forgot-password', { email: uniqueEmail(`spam${i}`) })).statusCode,
      )
    t.same(spam.slice(0, 20), Array(20).fill(202), 'twenty different accounts pass')
    t.equal(spam[20], 429, 'the twenty-first is limited')
    const limited = await from(spammer, app, 'POST', '/v1/auth/forgot-password', { email: uniqueEmail() })
    t.equal(limited.json.code, 'RATE_LIMITED')
    t.ok(Number(limited.headers['retry-after']) > 0, 'with Retry-After')
  },
)

// ---------------------------------------------------------------------------------------------
// 13. Redis down
// ---------------------------------------------------------------------------------------------

void t.test('with Redis cut, login and the other limits keep working and keep limiting (in memory)', async (t) => {
  const redisPort = Number(new URL(TEST_REDIS_URL).port || 6379)
  const proxy = await tcpProxy(redisPort, new URL(TEST_REDIS_URL).hostname)
  t.teardown(() => proxy.close())
  const app = await build(t, { RATE_LIMIT_SCALE: 1, REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
  const u = await aUser(app)
  proxy.cut()
  await new Promise((r) => setTimeout(r, 50)) // let the client see the cut (any later command fails over)
  t.equal((await call(app, 'GET', '/ready')).statusCode, 503, 'Redis is down for this app')

  const login = (password: string) => call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password } })
  const right = await login(u.password)
  t.equal(right.statusCode, 200, `the right password signs in: ${right.body}`)
  const wrong: number[] = []
  for (let i = 0; i < 10; i++) wrong.push((await login('wrong password')).statusCode)
  t.same(wrong, Array(10).fill(401), 'ten wrong passwords are refused as such')
  const limited = await login(u.password)
  t.equal(limited.statusCode, 429, 'then the account is limited, even with the right password')
  t.equal(limited.json.code, 'RATE_LIMITED')

  // A route limit (@fastify/rate-limit): register, 20 per IP per hour; one was used before the cut.
  const reg: number[] = []
  for (let i = 0; i < 21; i++)
    reg.push(
      (
        await call(app, 'POST', '/v1/auth/register', {
          body: { email: uniqueEmail('down'), password: 'long enough pw', name: 'Down' },
        })
      ).statusCode,
    )
  t.notOk(reg.includes(500), 'never a 500')
  t.same(reg.slice(0, 20), Array(20).fill(201), 'registrations go on')
  t.equal(reg[20], 429, 'and are still limited, counted in memory')

  // Forgot-password's own limits too.
  const forgot: number[] = []
  for (let i = 0; i < 6; i++)
    forgot.push((await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email } })).statusCode)
  t.same(forgot, [202, 202, 202, 202, 202, 429])
})

void t.test('with Redis unreachable from the start, login answers (no 500)', async (t) => {
  // A port nothing listens on: a proxy that was closed again.
  const proxy = await tcpProxy(1)
  await proxy.close()
  const app = await build(t, { RATE_LIMIT_SCALE: 1, REDIS_URL: `redis://127.0.0.1:${proxy.port}` })
  const u = await aUser(app)
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).statusCode,
    200,
  )
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } })).statusCode,
    401,
  )
})

// ---------------------------------------------------------------------------------------------
// 18. Tokens in caches and logs, concurrent logins, names
// ---------------------------------------------------------------------------------------------

void t.test('answers carrying tokens, and a signed-in user’s answers, are not to be cached', async (t) => {
  const app = await build(t)
  const email = uniqueEmail()
  const reg = await call(app, 'POST', '/v1/auth/register', { body: { email, password: 'long enough pw', name: 'Ada' } })
  t.equal(reg.statusCode, 201)
  t.equal(reg.headers['cache-control'], 'no-store', 'register')
  const login = await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'long enough pw' } })
  t.equal(login.statusCode, 200)
  t.equal(login.headers['cache-control'], 'no-store', 'login')
  const refresh = await call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken: login.json.refreshToken } })
  t.equal(refresh.statusCode, 200)
  t.equal(refresh.headers['cache-control'], 'no-store', 'refresh')
  const failed = await call(app, 'POST', '/v1/auth/login', { body: { email, password: 'wrong password' } })
  t.equal(failed.headers['cache-control'], 'no-store', 'a refused login too')
  const token = await resetToken(app, email)
  const reset = await call(app, 'POST', '/v1/auth/reset-password', { body: { token, password: 'a new password!' } })
  t.equal(reset.statusCode, 204)
  t.equal(reset.headers['cache-control'], 'no-store', 'reset')

  const signedIn = await aUser(app)
  const me = await call(app, 'GET', '/v1/me', { token: signedIn.accessToken })
  t.equal(me.headers['cache-control'], 'private, no-store', "a user's own data")
  const categories = await call(app, 'GET', '/v1/categories')
  t.notMatch(String(categories.headers['cache-control'] ?? ''), /no-store/, 'public reads stay cacheable')
})

void t.test('secret query parameters never reach the request log', async (t) => {
  const { logger, lines } = capturedLogger()
  const node = await startNode(t, await testDatabase(t), { logger })
  const user = await aUser(node.app)
  // A plain GET (no upgrade) of the feed, with the access token in the query.
  const feed = await fetch(`${node.url}/v1/stream?token=${user.accessToken}&lastSeq=0`)
  t.equal(feed.status, 426, 'the feed asks for an upgrade')
  await fetch(`${node.url}/reset-password?token=reset-secret-abcdefghijkl`)
  await fetch(`${node.url}/v1/listings?access_token=${user.accessToken}`)
  const logged = lines.filter(
    (l) => l.includes('/v1/stream') || l.includes('/reset-password') || l.includes('access_token'),
  )
  t.ok(logged.length >= 3, 'the requests are logged')
  t.ok(
    logged.some((l) => l.includes('/v1/stream?token=[redacted]&lastSeq=0')),
    'with the token redacted and the rest of the query kept',
  )
  t.notOk(
    lines.some((l) => l.includes(user.accessToken) || l.includes('reset-secret-abcdefghijkl')),
    'no line holds a token',
  )
})

void t.test('30 concurrent wrong passwords: at most 10 are checked, the rest are limited', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const u = await aUser(app)
  const answers = await Promise.all(
    Array.from({ length: 30 }, () =>
      call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: 'wrong password' } }),
    ),
  )
  const codes = answers.map((a) => a.statusCode)
  const refused = codes.filter((c) => c === 401).length
  const limited = codes.filter((c) => c === 429).length
  t.ok(refused <= 10, `at most 10 wrong passwords were checked (${refused})`)
  t.equal(refused + limited, 30, `every other one is limited: ${JSON.stringify(codes)}`)
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).statusCode,
    429,
    'the account is limited from this IP',
  )
  const elsewhere = await from('10.9.9.9', app, 'POST', '/v1/auth/login', { email: u.email, password: u.password })
  t.equal(elsewhere.statusCode, 200, 'but not from elsewhere')

  // A success gives its point back: right passwords do not use up the per-IP allowance.
  const office = await build(t, { RATE_LIMIT_SCALE: 0.1 }) // 1 failure per account+IP, 3 per IP
  const staff: string[] = []
  for (let i = 0; i < 5; i++) {
    // Registered from their homes (register allows 2 per IP at this scale).
    const email = uniqueEmail('staff')
    const reg = await from(`198.51.100.${100 + i}`, office, 'POST', '/v1/auth/register', {
      email,
      password: 'office password',
      name: 'Staff',
    })
    t.equal(reg.statusCode, 201)
    staff.push(email)
  }
  const signIns: number[] = []
  for (const email of staff)
    signIns.push(
      (await from('192.0.2.50', office, 'POST', '/v1/auth/login', { email, password: 'office password' })).statusCode,
    )
  t.same(signIns, [200, 200, 200, 200, 200], 'five colleagues behind one address all sign in')
})

void t.test('per-IP limits count an IPv6 client by its /64: rotating addresses gains nothing', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const u = await aUser(app)
  const logins: number[] = []
  for (let i = 1; i <= 11; i++)
    logins.push(
      (
        await from(`2001:db8:5:6::${i.toString(16)}`, app, 'POST', '/v1/auth/login', {
          email: u.email,
          password: 'wrong',
        })
      ).statusCode,
    )
  t.same(logins, [...Array(10).fill(401), 429], 'ten guesses per account and /64, whatever the address')
  const otherPrefix = await from('2001:db8:5:7::1', app, 'POST', '/v1/auth/login', {
    email: u.email,
    password: u.password,
  })
  t.equal(otherPrefix.statusCode, 200, 'another /64 is another client')

  const mails: number[] = []
  for (let i = 1; i <= 21; i++)
    mails.push(
      (
        await from(`2001:db8:9:9:${i.toString(16)}::1`, app, 'POST', '/v1/auth/forgot-password', {
          email: uniqueEmail(`v6-${i}`),
        })
      ).statusCode,
    )
  t.same(mails, [...Array(20).fill(202), 429], 'twenty reset mails per /64 an hour')
})

const SNEAKY_NAMES: [string, string][] = [
  ['Ada\u202Egnp.exe', 'a right-to-left override'],
  ['Ada\u2066Lovelace\u2069', 'a bidi isolate'],
  ['Ad\u200Ba', 'a zero-width space'],
  ['Ada\u200D', 'a zero-width joiner'],
  ['\uFEFFAda', 'a byte-order mark'],
  ['Ada\u0007', 'a control character'],
  ['Ada\nLovelace', 'a newline'],
  ['   ', 'nothing but spaces'],
  ['\u3164', 'a blank filler'],
]

void t.test('names with control, bidi-override or zero-width characters are refused', async (t) => {
  const app = await build(t)
  for (const [name, what] of SNEAKY_NAMES) {
    const email = uniqueEmail('sneaky')
    const res = await call(app, 'POST', '/v1/auth/register', { body: { email, password: 'long enough pw', name } })
    t.equal(res.statusCode, 400, `register: ${what}`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
    t.ok(
      (res.json.errors as { path: string }[]).some((e) => e.path === '/body/name'),
      'the name is the field at fault',
    )
    t.notOk(await app.db('users').where('email', email).first('id'), 'no account was made')
  }

  const u = await aUser(app, { name: 'Ada Lovelace' })
  for (const [name, what] of SNEAKY_NAMES) {
    const res = await call(app, 'PATCH', '/v1/me', { token: u.accessToken, body: { name } })
    t.equal(res.statusCode, 400, `profile update: ${what}`)
    t.equal(res.json.code, 'VALIDATION_FAILED')
  }
  t.equal(
    (await call(app, 'GET', '/v1/me', { token: u.accessToken })).json.name,
    'Ada Lovelace',
    'the name is unchanged',
  )

  // Real names in any script, with diacritics and emoji, still pass.
  for (const name of ['Àdébáyọ̀ Ọlá', 'Chukwuemeka Ńnàmdí', 'محمد', '李小龙', 'Ada 👩🏽', "O'Brien-Smith"]) {
    const res = await call(app, 'PATCH', '/v1/me', { token: u.accessToken, body: { name } })
    t.equal(res.statusCode, 200, `${name} is a name`)
    t.equal(res.json.name, name)
  }

  // The titles others see: listings, wants; and the name on an address.
  const spoof = 'Sofa\u202Egnp.exe'
  const listing = await call(app, 'POST', '/v1/listings', {
    token: u.accessToken,
    body: await listingBody(app.db, { title: spoof }),
  })
  t.equal(listing.statusCode, 400, 'a listing title')
  t.ok((listing.json.errors as { path: string }[]).some((e) => e.path === '/body/title'))
  const want = await call(app, 'POST', '/v1/wants', {
    token: u.accessToken,
    body: { title: spoof, description: 'Ergonomic, with lumbar support' },
  })
  t.equal(want.statusCode, 400, 'a want title')
  t.ok((want.json.errors as { path: string }[]).some((e) => e.path === '/body/title'))
  const address = await call(app, 'POST', '/v1/me/addresses', {
    token: u.accessToken,
    body: { fullName: 'Ada\u200B', phone: '+234 801 234 5678', line1: '1 Marina', city: 'Lagos', state: 'Lagos' },
  })
  t.equal(address.statusCode, 400, "an address's full name")
  t.equal(
    Number((await app.db('listings').where('seller_id', u.id).count({ n: '*' }).first())?.n),
    0,
    'nothing was written',
  )
})
