import t, { type Test } from 'tap'
import { build, call, type TestApp } from './helpers/app.js'
import { aUser } from './factories/users.js'

/** The link of the newest mail to `to` whose subject matches. */
async function mailedLink(app: TestApp, to: string, subject: string): Promise<URL> {
  const mail = await app
    .db('mail_outbox')
    .where('to_address', to)
    .andWhere('subject', 'like', `%${subject}%`)
    .orderBy('created_at', 'desc')
    .first()
  const link = /(https?:\/\/\S+)/.exec(mail.text_body)![1]!
  return new URL(link)
}

const open = (app: TestApp, url: URL) => app.inject({ method: 'GET', url: url.pathname + url.search })
const postForm = (app: TestApp, fields: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url: '/reset-password',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  })

function looksSafe(t: Test, res: { headers: Record<string, unknown>; body: string }) {
  t.match(res.headers['content-type'], /^text\/html/)
  t.match(res.headers['content-security-policy'], /default-src 'none'/)
  t.equal(res.headers['cache-control'], 'no-store')
  t.notMatch(res.body, /<script/i, 'no script on the page')
}

void t.test('the mailed verification link, opened on Oja, verifies', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const link = await mailedLink(app, u.email, 'Confirm')
  t.equal(link.origin, 'http://oja.test', 'PUBLIC_URL is the default APP_LINK_BASE')
  t.equal(link.pathname, '/verify-email')
  const res = await open(app, link)
  t.equal(res.statusCode, 200, res.body)
  looksSafe(t, res)
  t.match(res.body, /Email verified/)
  t.equal((await call(app, 'GET', '/v1/me', { token: u.accessToken })).json.emailVerified, true)
  const again = await open(app, link)
  t.equal(again.statusCode, 400)
  t.match(again.body, /invalid, has expired or was already used/)
  const bogus = await app.inject({ method: 'GET', url: '/verify-email?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E' })
  t.equal(bogus.statusCode, 400)
  looksSafe(t, bogus)
  const none = await app.inject({ method: 'GET', url: '/verify-email' })
  t.equal(none.statusCode, 400, 'no token')
  t.equal(none.json().code, 'VALIDATION_FAILED', 'a request that is no link is a problem like any other')
})

void t.test('the mailed reset link, opened on Oja, shows a form that resets the password', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  t.equal((await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email } })).statusCode, 202)
  const link = await mailedLink(app, u.email, 'Reset')
  t.equal(link.origin + link.pathname, 'http://oja.test/reset-password')
  const form = await open(app, link)
  t.equal(form.statusCode, 200, form.body)
  looksSafe(t, form)
  t.match(form.body, /<form method="post" action="\/reset-password">/)
  const token = link.searchParams.get('token')!
  t.match(form.body, `name="token" value="${token}"`)

  const short = await postForm(app, { token, password: 'short' })
  t.equal(short.statusCode, 400)
  t.match(short.body, /8 to 200 characters/)
  t.match(short.body, `value="${token}"`, 'the form again, with the token')

  const done = await postForm(app, { token, password: 'a brand new password' })
  t.equal(done.statusCode, 200, done.body)
  looksSafe(t, done)
  t.match(done.body, /Password changed/)
  const login = await call(app, 'POST', '/v1/auth/login', {
    body: { email: u.email, password: 'a brand new password' },
  })
  t.equal(login.statusCode, 200, 'the new password works')
  t.equal((await call(app, 'GET', '/v1/me', { token: u.accessToken })).statusCode, 401, 'old sessions ended')

  t.equal((await postForm(app, { token, password: 'yet another password' })).statusCode, 400, 'single use')
  const spent = await open(app, link)
  t.equal(spent.statusCode, 400)
  t.notMatch(spent.body, /<form/, 'a spent link shows no form')
})

void t.test('everything echoed is escaped', async (t) => {
  const app = await build(t)
  const evil = '"><script>alert(1)</script><img src=x onerror=alert(1)>'
  const res = await postForm(app, { token: evil, password: 'x' })
  t.equal(res.statusCode, 400)
  looksSafe(t, res)
  t.notMatch(res.body, /<img/)
  t.match(res.body, /&quot;&gt;&lt;script&gt;/)
  const junk = await app.inject({
    method: 'POST',
    url: '/reset-password',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'nothing=here',
  })
  t.equal(junk.statusCode, 400)
  t.equal(junk.json().code, 'VALIDATION_FAILED', 'unknown fields are refused')
})

void t.test('rate limited like the reset API', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 0.1 })
  const codes: number[] = []
  for (let i = 0; i < 3; i++)
    codes.push((await app.inject({ method: 'GET', url: '/verify-email?token=aaaaaaaaaaaaaaaa' })).statusCode)
  t.same(codes, [400, 400, 429])
})

void t.test('APP_LINK_BASE elsewhere: links point there and Oja serves no pages', async (t) => {
  const app = await build(t, { APP_LINK_BASE: 'https://app.example.com/' })
  const u = await aUser(app)
  const link = await mailedLink(app, u.email, 'Confirm')
  t.equal(link.origin + link.pathname, 'https://app.example.com/verify-email')
  t.ok(link.searchParams.get('token'))
  t.equal((await open(app, link)).statusCode, 404)
  await call(app, 'POST', '/v1/auth/forgot-password', { body: { email: u.email } })
  const reset = await mailedLink(app, u.email, 'Reset')
  t.equal(reset.origin + reset.pathname, 'https://app.example.com/reset-password')
  // The token still works through the API.
  const ok = await call(app, 'POST', '/v1/auth/verify-email', { body: { token: link.searchParams.get('token') } })
  t.equal(ok.statusCode, 200)
})
