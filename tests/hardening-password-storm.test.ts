/**
 * A storm of sign-ins does not take every core: argon2 runs at most PASSWORD_HASH_CONCURRENCY
 * at once, PASSWORD_HASH_QUEUE more wait, and the rest are refused at once with 503
 * PASSWORD_CHECK_BUSY and Retry-After, while other routes keep answering.
 */
import t from 'tap'
import { passwords } from '../src/accounts/index.js'
import { build, call } from './helpers/app.js'
import { aUser } from './factories/users.js'

void t.test('wrong passwords from many addresses: bounded hashing, early refusals, other routes answer', async (t) => {
  // The production cost: each hash takes a core for tens of milliseconds, as in a real storm.
  const app = await build(t, {
    PASSWORD_HASH_CONCURRENCY: 1,
    PASSWORD_HASH_QUEUE: 4,
    PASSWORD_HASH_MEMORY_KIB: 19_456,
    PASSWORD_HASH_PASSES: 2,
  })
  const user = await aUser(app)
  passwords.peak = 0
  passwords.peakWaiting = 0
  const storm = Array.from({ length: 40 }, (_, i) =>
    app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      remoteAddress: `10.9.${Math.floor(i / 200)}.${i % 200}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: user.email, password: `wrong-${i}` }),
    }),
  )
  // While the storm runs, a read that needs no hashing answers.
  const read = await call(app, 'GET', '/v1/categories')
  t.equal(read.statusCode, 200, 'another route answers during the storm')
  const answers = await Promise.all(storm)
  const statuses = answers.map((a) => a.statusCode)
  const busy = answers.filter((a) => a.statusCode === 503)
  t.equal(statuses.filter((s) => s === 401).length + busy.length, 40, 'each answer is a wrong password or busy')
  t.ok(busy.length > 0, `past one running and four waiting, the rest are refused at once (${busy.length} busy)`)
  t.ok(statuses.filter((s) => s === 401).length >= 5, 'the ones admitted were checked')
  for (const b of busy) {
    t.equal(b.json().code, 'PASSWORD_CHECK_BUSY')
    t.equal(b.headers['retry-after'], '1')
  }
  t.equal(passwords.peak, 1, 'never more than one hash at once')
  t.ok(passwords.peakWaiting <= 4, `never more than four waiting (${passwords.peakWaiting})`)

  // Once the storm has passed, the right password signs in.
  const ok = await call(app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
  t.equal(ok.statusCode, 200, ok.body)
})
