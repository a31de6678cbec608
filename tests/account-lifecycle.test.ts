import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { build, call, uniqueEmail, type Json, type TestApp } from './helpers/app.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import { aListing } from './factories/listings.js'
import { aConversation, aMessage } from './factories/chat.js'
import { ADDRESS, available, commerceApp, pendingCheckout, postWebhook } from './factories/commerce.js'
import { moveTo, paidSale, receivedSale } from './factories/money.js'

/** The token of the newest mail to `to` whose subject matches. */
async function mailedToken(app: TestApp, to: string, subject: string): Promise<string> {
  const mail = await app
    .db('mail_outbox')
    .where('to_address', to)
    .andWhere('subject', 'like', `%${subject}%`)
    .orderBy('created_at', 'desc')
    .first()
  if (!mail) throw new Error(`no mail "${subject}" to ${to}`)
  return new URL(/(https?:\/\/\S+)/.exec(mail.text_body as string)![1]!).searchParams.get('token')!
}

const login = (app: TestApp, email: string, password: string, userAgent?: string) =>
  call(app, 'POST', '/v1/auth/login', {
    body: { email, password },
    ...(userAgent ? { headers: { 'user-agent': userAgent } } : {}),
  })

/** A second sign-in of the same user (another device). */
async function anotherSession(app: TestApp, user: SignedInUser, userAgent = 'Second device') {
  const res = await login(app, user.email, user.password, userAgent)
  if (res.statusCode !== 200) throw new Error(`login: ${res.statusCode} ${res.body}`)
  return { accessToken: res.json.accessToken as string, refreshToken: res.json.refreshToken as string }
}

const me = (app: TestApp, token: string) => call(app, 'GET', '/v1/me', { token })
const refresh = (app: TestApp, refreshToken: string) =>
  call(app, 'POST', '/v1/auth/refresh', { body: { refreshToken } })
const deleteAccount = (app: TestApp, user: { accessToken: string }, password: string) =>
  call(app, 'DELETE', '/v1/me', { token: user.accessToken, body: { password } })

void t.test('POST /v1/me/password: the new password works, every other session ends, this one stays', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const other = await anotherSession(app, u)
  const stranger = await aUser(app)
  const device = await call(app, 'POST', '/v1/me/devices', {
    token: other.accessToken,
    body: { platform: 'expo', token: 'ExponentPushToken[other-device]' },
  })
  t.equal(device.statusCode, 201, device.body)

  const res = await call(app, 'POST', '/v1/me/password', {
    token: u.accessToken,
    body: { currentPassword: u.password, newPassword: 'a brand new passphrase' },
  })
  t.equal(res.statusCode, 204, res.body)
  t.equal((await me(app, u.accessToken)).statusCode, 200, 'the current session stays')
  const otherMe = await me(app, other.accessToken)
  t.equal(otherMe.statusCode, 401, "the other session's access token stops working")
  t.equal(otherMe.json.code, 'SESSION_REVOKED')
  t.equal((await refresh(app, other.refreshToken)).statusCode, 401, 'and its refresh token')
  t.equal((await refresh(app, u.refreshToken)).statusCode, 200, "the current session's refresh token still works")
  t.equal((await app.db('push_devices').where('user_id', u.id)).length, 0, "the other session's device ended with it")
  t.equal((await login(app, u.email, u.password)).statusCode, 401, 'the old password no longer signs in')
  t.equal((await login(app, u.email, 'a brand new passphrase')).statusCode, 200, 'the new one does')
  t.equal((await me(app, stranger.accessToken)).statusCode, 200, "another user's sessions are untouched")
})

void t.test('POST /v1/me/password: wrong password, weak password, malformed bodies; nothing changes', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const other = await anotherSession(app, u)
  const wrong = await call(app, 'POST', '/v1/me/password', {
    token: u.accessToken,
    body: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' },
  })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json.code, 'WRONG_PASSWORD')
  for (const body of [
    { currentPassword: u.password, newPassword: 'short' },
    { currentPassword: u.password, newPassword: 'x'.repeat(201) },
    { currentPassword: u.password },
    { newPassword: 'a brand new passphrase' },
    { currentPassword: u.password, newPassword: 'a brand new passphrase', extra: 1 },
    { currentPassword: '', newPassword: 'a brand new passphrase' },
    'not json',
  ]) {
    const res = await call(app, 'POST', '/v1/me/password', { token: u.accessToken, body })
    t.equal(res.statusCode, 400, JSON.stringify(body))
  }
  const anonymous = await call(app, 'POST', '/v1/me/password', {
    body: { currentPassword: u.password, newPassword: 'a brand new passphrase' },
  })
  t.equal(anonymous.statusCode, 401)
  t.equal((await me(app, other.accessToken)).statusCode, 200, 'no session ended')
  t.equal((await login(app, u.email, u.password)).statusCode, 200, 'the password is unchanged')
})

void t.test('password checks are rate-limited like sign-in, also under concurrent guesses', async (t) => {
  const app = await build(t, { RATE_LIMIT_SCALE: 1 })
  const u = await aUser(app)
  const guesses = await Promise.all(
    Array.from({ length: 14 }, (_, i) =>
      call(app, 'POST', '/v1/me/password', {
        token: u.accessToken,
        body: { currentPassword: `wrong guess ${i}`, newPassword: 'a brand new passphrase' },
      }),
    ),
  )
  const codes = guesses.map((r) => r.statusCode).sort()
  t.equal(codes.filter((c) => c === 403).length, 10, '10 wrong passwords per 15 minutes')
  t.equal(codes.filter((c) => c === 429).length, 4, 'then 429')
  const limited = guesses.find((r) => r.statusCode === 429)!
  t.equal(limited.json.code, 'RATE_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0)
  const right = await call(app, 'DELETE', '/v1/me', { token: u.accessToken, body: { password: u.password } })
  t.equal(right.statusCode, 429, 'the right password waits too (erasure shares the count)')
})

void t.test('GET/DELETE /v1/me/sessions: the live sessions, current marked; ending one', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const phone = await anotherSession(app, u, 'Oja/2.3 (iPhone)')
  const laptop = await anotherSession(app, u, 'Mozilla/5.0 laptop')
  const stranger = await aUser(app)
  await call(app, 'POST', '/v1/auth/logout', { body: { refreshToken: laptop.refreshToken } })

  const list = await call(app, 'GET', '/v1/me/sessions', { token: phone.accessToken })
  t.equal(list.statusCode, 200, list.body)
  t.equal(list.headers['cache-control'], 'private, no-store')
  t.equal(list.json.items.length, 2, 'the logged-out session is not listed')
  const current = list.json.items.filter((s: Json) => s.current)
  t.equal(current.length, 1)
  t.equal(current[0].userAgent, 'Oja/2.3 (iPhone)')
  for (const s of list.json.items)
    t.same(Object.keys(s).sort(), ['createdAt', 'current', 'id', 'lastUsedAt', 'userAgent'])
  const registerSession = list.json.items.find((s: Json) => !s.current)

  // A refresh moves lastUsedAt on, and the most recently used comes first.
  await app
    .db('sessions')
    .where('user_id', u.id)
    .update({ last_used_at: app.db.raw("now() - interval '1 hour'") })
  const rotated = await refresh(app, u.refreshToken)
  t.equal(rotated.statusCode, 200)
  const after = (await call(app, 'GET', '/v1/me/sessions', { token: phone.accessToken })).json.items
  t.equal(after[0].id, registerSession.id, 'the refreshed session is first')
  t.ok(Date.parse(after[0].lastUsedAt) > Date.now() - 60_000, 'its lastUsedAt is now')
  t.ok(Date.parse(after[1].lastUsedAt) < Date.now() - 3_000_000)

  const strangers = (await call(app, 'GET', '/v1/me/sessions', { token: stranger.accessToken })).json.items
  t.equal(strangers.length, 1)
  const notMine = await call(app, 'DELETE', `/v1/me/sessions/${strangers[0].id}`, { token: phone.accessToken })
  t.equal(notMine.statusCode, 404, "another user's session is not found")
  t.equal((await me(app, stranger.accessToken)).statusCode, 200, 'and it lives on')
  t.equal((await call(app, 'DELETE', `/v1/me/sessions/${randomUUID()}`, { token: phone.accessToken })).statusCode, 404)
  t.equal((await call(app, 'DELETE', '/v1/me/sessions/not-a-uuid', { token: phone.accessToken })).statusCode, 400)
  t.equal((await call(app, 'GET', '/v1/me/sessions')).statusCode, 401)

  const end = await call(app, 'DELETE', `/v1/me/sessions/${registerSession.id}`, { token: phone.accessToken })
  t.equal(end.statusCode, 204, end.body)
  t.equal((await me(app, u.accessToken)).statusCode, 401, "the ended session's access token stops")
  t.equal((await refresh(app, rotated.json.refreshToken)).statusCode, 401, 'and its refresh token')
  const again = await call(app, 'DELETE', `/v1/me/sessions/${registerSession.id}`, { token: phone.accessToken })
  t.equal(again.statusCode, 404, 'an ended session is not found')
  const loggedOut = await app.db('sessions').where({ user_id: u.id, revoked_reason: 'logout' }).first()
  const logoutEnded = await call(app, 'DELETE', `/v1/me/sessions/${loggedOut.id}`, { token: phone.accessToken })
  t.equal(logoutEnded.statusCode, 404, 'a session ended by logout is not found')

  // Many parallel ends of one session: exactly one ends it.
  const extra = await anotherSession(app, u, 'Tablet')
  const extraId = (await call(app, 'GET', '/v1/me/sessions', { token: extra.accessToken })).json.items.find(
    (s: Json) => s.current,
  ).id
  const ends = await Promise.all(
    Array.from({ length: 8 }, () => call(app, 'DELETE', `/v1/me/sessions/${extraId}`, { token: phone.accessToken })),
  )
  t.same(ends.map((r) => r.statusCode).sort(), [204, 404, 404, 404, 404, 404, 404, 404])
  // Ending the current session is a sign-out.
  t.equal((await call(app, 'DELETE', `/v1/me/sessions/${current[0].id}`, { token: phone.accessToken })).statusCode, 204)
  t.equal((await me(app, phone.accessToken)).statusCode, 401)
})

void t.test('POST /v1/me/email: the link to the new address switches it; the old one works until then', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  const newEmail = uniqueEmail('moved')
  const res = await call(app, 'POST', '/v1/me/email', {
    token: u.accessToken,
    body: { newEmail: `  ${newEmail.toUpperCase()} `.trim(), password: u.password },
  })
  t.equal(res.statusCode, 202, res.body)
  const token = await mailedToken(app, newEmail, 'Confirm your new email')
  const mail = await app.db('mail_outbox').where('to_address', newEmail).first()
  t.match(mail.text_body, /http:\/\/oja\.test\/verify-email\?token=/)
  t.equal((await me(app, u.accessToken)).json.email, u.email, 'not switched yet')
  t.equal((await login(app, u.email, u.password)).statusCode, 200, 'the old address still signs in')
  t.equal((await login(app, newEmail, u.password)).statusCode, 401, 'the new one not yet')

  const verified = await call(app, 'POST', '/v1/auth/verify-email', { body: { token } })
  t.equal(verified.statusCode, 200, verified.body)
  t.equal(verified.json.email, newEmail)
  t.equal(verified.json.emailVerified, true)
  t.equal((await login(app, newEmail, u.password)).statusCode, 200, 'the new address signs in')
  const old = await login(app, u.email, u.password)
  t.equal(old.statusCode, 401, 'the old one answers like an unknown email')
  t.equal(old.json.code, 'INVALID_CREDENTIALS')
  const notice = await app.db('mail_outbox').where('to_address', u.email).andWhere('subject', 'like', '%was changed%')
  t.equal(notice.length, 1, 'the old address is told')
  t.match(notice[0].text_body, newEmail)
  t.equal((await call(app, 'POST', '/v1/auth/verify-email', { body: { token } })).statusCode, 400, 'single use')

  // The link page does the same for a second change.
  const third = uniqueEmail('third')
  await call(app, 'POST', '/v1/me/email', { token: u.accessToken, body: { newEmail: third, password: u.password } })
  const page = await app.inject({
    method: 'GET',
    url: `/verify-email?token=${await mailedToken(app, third, 'Confirm your new email')}`,
  })
  t.equal(page.statusCode, 200, page.body)
  t.equal((await me(app, u.accessToken)).json.email, third)
})

void t.test(
  'POST /v1/me/email: wrong password, taken, unchanged, malformed; a newer request spends the older link',
  async (t) => {
    const app = await build(t)
    const u = await aUser(app)
    const other = await aUser(app)
    const send = (body: unknown) => call(app, 'POST', '/v1/me/email', { token: u.accessToken, body })
    const wrong = await send({ newEmail: uniqueEmail(), password: 'not my password' })
    t.equal(wrong.statusCode, 403)
    t.equal(wrong.json.code, 'WRONG_PASSWORD')
    const taken = await send({ newEmail: other.email.toUpperCase(), password: u.password })
    t.equal(taken.statusCode, 409)
    t.equal(taken.json.code, 'EMAIL_TAKEN', 'the code registration answers')
    const same = await send({ newEmail: u.email, password: u.password })
    t.equal(same.statusCode, 409)
    t.equal(same.json.code, 'EMAIL_UNCHANGED')
    for (const body of [
      { newEmail: 'not an email', password: u.password },
      { newEmail: uniqueEmail() },
      { password: u.password },
      { newEmail: uniqueEmail(), password: u.password, name: 'x' },
    ])
      t.equal((await send(body)).statusCode, 400, JSON.stringify(body))
    t.equal((await app.db('user_tokens').where('user_id', u.id).whereNotNull('new_email')).length, 0, 'no link made')

    const first = uniqueEmail('first')
    const second = uniqueEmail('second')
    t.equal((await send({ newEmail: first, password: u.password })).statusCode, 202)
    const firstToken = await mailedToken(app, first, 'Confirm your new email')
    t.equal((await send({ newEmail: second, password: u.password })).statusCode, 202)
    const stale = await call(app, 'POST', '/v1/auth/verify-email', { body: { token: firstToken } })
    t.equal(stale.statusCode, 400, 'the older link is spent')
    t.equal((await me(app, u.accessToken)).json.email, u.email)

    // Taken between the request and the link: refused at switch time, and the email stays.
    const secondToken = await mailedToken(app, second, 'Confirm your new email')
    const squatter = await aUser(app, { email: second })
    const late = await call(app, 'POST', '/v1/auth/verify-email', { body: { token: secondToken } })
    t.equal(late.statusCode, 409)
    t.equal(late.json.code, 'EMAIL_TAKEN')
    t.equal((await me(app, u.accessToken)).json.email, u.email)
    t.equal((await me(app, squatter.accessToken)).json.email, second)
  },
)

void t.test('two users switching to the same email at once: exactly one gets it', async (t) => {
  const app = await build(t)
  const users = await Promise.all(Array.from({ length: 6 }, () => aUser(app)))
  const target = uniqueEmail('contested')
  const asked = await Promise.all(
    users.map((u) =>
      call(app, 'POST', '/v1/me/email', { token: u.accessToken, body: { newEmail: target, password: u.password } }),
    ),
  )
  t.same(
    asked.map((r) => r.statusCode),
    users.map(() => 202),
    'nobody has it yet: every request is mailed',
  )
  const mails = await app.db('mail_outbox').where('to_address', target)
  t.equal(mails.length, users.length)
  const tokens = mails.map((m) =>
    new URL(/(https?:\/\/\S+)/.exec(m.text_body as string)![1]!).searchParams.get('token'),
  )
  const switched = await Promise.all(
    tokens.map((token) => call(app, 'POST', '/v1/auth/verify-email', { body: { token } })),
  )
  const codes = switched.map((r) => r.statusCode)
  t.equal(codes.filter((c) => c === 200).length, 1, 'one switch wins')
  t.equal(codes.filter((c) => c === 409).length, users.length - 1, 'the rest are 409')
  for (const r of switched.filter((r) => r.statusCode === 409)) t.equal(r.json.code, 'EMAIL_TAKEN')
  t.equal((await app.db('users').whereRaw('lower(email) = ?', [target])).length, 1)
})

/** A buyer and a seller with something in every section of an export. */
async function busyPair(t: Test) {
  const { app, paystack } = await commerceApp(t)
  const sale = await receivedSale(app, paystack)
  const { buyer, seller } = sale
  const review = await call(app, 'POST', `/v1/shipments/${sale.shipmentId}/reviews`, {
    token: buyer.accessToken,
    body: { rating: 5, body: 'Just as described, friendly seller' },
  })
  if (review.statusCode !== 201) throw new Error(`review: ${review.statusCode} ${review.body}`)
  const address = await call(app, 'POST', '/v1/me/addresses', { token: buyer.accessToken, body: ADDRESS })
  if (address.statusCode !== 201) throw new Error(`address: ${address.body}`)
  const want = await call(app, 'POST', '/v1/wants', {
    token: buyer.accessToken,
    body: { title: 'Dining table for six', description: 'Solid wood preferred' },
  })
  if (want.statusCode !== 201) throw new Error(`want: ${want.statusCode} ${want.body}`)
  const other = await aListing(app.db, seller.id, { title: 'Oak bookshelf' })
  const wish = await call(app, 'PUT', `/v1/me/wishlist/${other.id}`, { token: buyer.accessToken })
  if (wish.statusCode >= 300) throw new Error(`wishlist: ${wish.statusCode} ${wish.body}`)
  const chat = await aConversation(app, { buyer, seller, message: 'Hello, is the bookshelf solid oak?' })
  await aMessage(app, seller, chat.conversation.id as string, 'Yes, solid oak, collection in Yaba')
  return { app, paystack, ...sale, listing: other, conversationId: chat.conversation.id as string }
}

void t.test("GET /v1/me/export: every section, only the caller's data", async (t) => {
  const { app, buyer, seller, order, shipmentId } = await busyPair(t)
  const stranger = await aUser(app)
  const res = await call(app, 'GET', '/v1/me/export', { token: buyer.accessToken })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.headers['cache-control'], 'private, no-store')
  const x = res.json
  t.match(x.profile, { id: buyer.id, email: buyer.email, name: 'Bola Buyer' })
  t.equal(x.addresses.length, 1)
  t.match(x.addresses[0], { fullName: ADDRESS.fullName, phone: ADDRESS.phone, city: 'Ikeja' })
  t.equal(x.wants.length, 1)
  t.match(x.wants[0], { title: 'Dining table for six', status: 'open' })
  t.equal(x.wishlist.length, 1)
  t.match(x.wishlist[0], { title: 'Oak bookshelf' })
  t.equal(x.orders.length, 1)
  t.match(x.orders[0], { id: order.id, paymentStatus: 'paid', shippingAddress: { fullName: ADDRESS.fullName } })
  t.match(x.orders[0].shipments, [{ id: shipmentId, status: 'received' }])
  t.equal(x.orders[0].items.length, 1)
  t.same(x.sales, [], 'the buyer sold nothing')
  t.same(x.listings, [])
  t.same(
    x.messages.map((m: Json) => m.body),
    ['Hello, is the bookshelf solid oak?', 'Yes, solid oak, collection in Yaba'],
  )
  t.equal(x.reviews.written.length, 1)
  t.match(x.reviews.written[0], { rating: 5, body: 'Just as described, friendly seller' })
  t.same(x.reviews.received, [])
  t.ok(x.notifications.length > 0, 'order notifications')
  t.ok(x.notifications.every((n: Json) => typeof n.type === 'string' && n.createdAt))
  t.same(x.limits, { perSection: 10_000 })
  t.same(x.truncated, [])
  t.notOk(JSON.stringify(x).includes('password'), 'no password hash')

  const s = (await call(app, 'GET', '/v1/me/export', { token: seller.accessToken })).json
  t.match(s.profile, { id: seller.id, email: seller.email })
  t.equal(s.listings.length, 3, 'the sold one, the bookshelf and the chat one')
  t.equal(s.sales.length, 1)
  t.match(s.sales[0], { id: shipmentId, orderId: order.id, status: 'received' })
  t.equal(s.reviews.received.length, 1)
  t.same(s.orders, [])
  t.same(s.addresses, [])

  const nobody = (await call(app, 'GET', '/v1/me/export', { token: stranger.accessToken })).json
  for (const k of ['addresses', 'listings', 'wants', 'wishlist', 'orders', 'sales', 'messages', 'notifications'])
    t.same(nobody[k], [], `a stranger's ${k} are empty`)
  t.equal((await call(app, 'GET', '/v1/me/export')).statusCode, 401)
})

void t.test('DELETE /v1/me: refused while a paid order is open, for buyer and seller, then allowed', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { buyer, seller, shipmentId } = await paidSale(app, paystack)
  const wrong = await deleteAccount(app, buyer, 'not my password')
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json.code, 'WRONG_PASSWORD')
  const asBuyer = await deleteAccount(app, buyer, buyer.password)
  t.equal(asBuyer.statusCode, 409)
  t.equal(asBuyer.json.code, 'ACCOUNT_HAS_OPEN_TRADES')
  t.same(asBuyer.json.reasons, ['paid_order'])
  const asSeller = await deleteAccount(app, seller, seller.password)
  t.equal(asSeller.statusCode, 409)
  t.same(asSeller.json.reasons, ['sale'])
  await moveTo(app, seller, shipmentId, 'delivered')
  t.same((await deleteAccount(app, buyer, buyer.password)).json.reasons, ['paid_order'], 'delivered is not received')
  for (const body of [{}, { password: '' }, { password: buyer.password, extra: true }])
    t.equal((await call(app, 'DELETE', '/v1/me', { token: buyer.accessToken, body })).statusCode, 400)
  t.equal((await me(app, buyer.accessToken)).statusCode, 200, 'nothing changed')
  t.equal((await app.db('users').where('id', buyer.id).first()).deleted_at, null)

  const received = await call(app, 'POST', `/v1/shipments/${shipmentId}/received`, { token: buyer.accessToken })
  t.equal(received.statusCode, 200)
  t.equal((await deleteAccount(app, buyer, buyer.password)).statusCode, 202)
  t.equal((await deleteAccount(app, seller, seller.password)).statusCode, 202)
})

void t.test('DELETE /v1/me: refused while a dispute is open, then allowed once resolved', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { buyer, seller, shipmentId } = await paidSale(app, paystack)
  const admin = await anAdmin(app)
  const opened = await call(app, 'POST', `/v1/shipments/${shipmentId}/disputes`, {
    token: buyer.accessToken,
    body: { reason: 'not_received', detail: 'Nothing arrived after two weeks' },
  })
  t.equal(opened.statusCode, 201, opened.body)
  const refused = await deleteAccount(app, seller, seller.password)
  t.equal(refused.statusCode, 409)
  t.same(refused.json.reasons, ['sale', 'dispute'])
  t.same((await deleteAccount(app, buyer, buyer.password)).json.reasons, ['paid_order', 'dispute'])
  const resolved = await call(app, 'POST', `/v1/admin/disputes/${opened.json.id}/resolve`, {
    token: admin.accessToken,
    body: { outcome: 'refund', note: 'No proof of delivery' },
  })
  t.equal(resolved.statusCode, 200, resolved.body)
  await app.commerce.idle()
  t.equal((await deleteAccount(app, seller, seller.password)).statusCode, 202, 'refunded: nothing is open')
  t.equal((await deleteAccount(app, buyer, buyer.password)).statusCode, 202)
})

void t.test('DELETE /v1/me: refused while a payout is in flight, then allowed once paid', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const { seller } = await receivedSale(app, paystack)
  const account = await call(app, 'PUT', '/v1/me/payout-account', {
    token: seller.accessToken,
    body: { bankCode: '058', accountNumber: '0123456789' },
  })
  t.equal(account.statusCode, 200, account.body)
  const payout = await call(app, 'POST', '/v1/payouts', {
    token: seller.accessToken,
    body: {},
    headers: { 'idempotency-key': randomUUID() },
  })
  t.equal(payout.statusCode, 201, payout.body)
  const refused = await deleteAccount(app, seller, seller.password)
  t.equal(refused.statusCode, 409)
  t.same(refused.json.reasons, ['payout'])
  t.equal((await postWebhook(app, paystack.settleTransfer(payout.json.reference as string, 'success'))).statusCode, 200)
  await app.commerce.idle()
  t.equal((await deleteAccount(app, seller, seller.password)).statusCode, 202)
  t.equal(await app.db('payout_accounts').where('seller_id', seller.id).first(), undefined, 'bank details erased')
  const kept = await app.db('payouts').where('seller_id', seller.id)
  t.equal(kept.length, 1, 'the payout row stays, with the anonymous id')
  t.ok((await app.db('ledger_entries').where('seller_id', seller.id)).length > 0, 'and the ledger entries')
})

void t.test('DELETE /v1/me: erases exactly what it says, keeps trades with the anonymous id', async (t) => {
  const { app, buyer, seller, order, listing, conversationId } = await busyPair(t)
  // An unpaid checkout of the buyer, holding the seller's last bookshelf.
  const pending = await pendingCheckout(app, buyer, listing.id)
  t.equal(await available(app, listing.id), 0)
  const device = await call(app, 'POST', '/v1/me/devices', {
    token: buyer.accessToken,
    body: { platform: 'expo', token: 'ExponentPushToken[buyer-phone]' },
  })
  t.equal(device.statusCode, 201)
  const second = await anotherSession(app, buyer)
  t.ok((await app.db('user_events').where('user_id', buyer.id)).length > 0, 'the buyer has events before')
  t.ok((await app.db('idempotency_keys').where('user_id', buyer.id)).length > 0, 'and stored checkout answers')
  await call(app, 'PATCH', '/v1/me', {
    token: buyer.accessToken,
    body: { bio: 'Collector of chairs', location: 'Yaba' },
  })
  const before = await app.db('users').where('id', buyer.id).first()
  const auditBefore = await app.db('audit_log').count({ n: '*' }).first()

  const res = await deleteAccount(app, buyer, buyer.password)
  t.equal(res.statusCode, 202, res.body)

  const row = await app.db('users').where('id', buyer.id).first()
  t.match(row, { name: 'Deleted user', bio: null, location: null, avatar_url: null, email_verified_at: null })
  t.ok(row.deleted_at, 'marked erased')
  t.not(row.email, buyer.email)
  t.notOk(row.email.includes(buyer.email.split('@')[0]), 'nothing of the address is left')
  t.not(row.password_hash, before.password_hash)
  t.equal((await app.db('addresses').where('user_id', buyer.id)).length, 0, 'addresses gone')
  t.equal((await app.db('push_devices').where('user_id', buyer.id)).length, 0, 'devices gone')
  t.equal((await app.db('wishlists').where('user_id', buyer.id)).length, 0, 'wishlist gone')
  t.equal((await app.db('notifications').where('user_id', buyer.id)).length, 0, 'notifications gone')
  t.equal((await app.db('user_tokens').where('user_id', buyer.id)).length, 0, 'links gone')
  t.equal((await app.db('user_events').where('user_id', buyer.id)).length, 0, 'its event stream gone')
  t.equal((await app.db('idempotency_keys').where('user_id', buyer.id)).length, 0, 'stored answers gone')
  t.equal((await app.db('carts').where('user_id', buyer.id)).length, 0, 'cart gone')
  t.equal((await app.db('sessions').where('user_id', buyer.id).whereNull('revoked_at')).length, 0, 'sessions ended')
  const messages = await app.db('messages').where('conversation_id', conversationId).orderBy('created_at')
  t.same(
    messages.map((m) => [m.sender_id, m.body]),
    [
      [buyer.id, '[deleted]'],
      [seller.id, 'Yes, solid oak, collection in Yaba'],
    ],
    "the buyer's text is replaced, the seller's kept",
  )
  t.equal((await app.db('wants').where('user_id', buyer.id).first()).status, 'closed')

  const kept = await app.db('orders').where('id', order.id).first()
  t.equal(kept.buyer_id, buyer.id, 'the paid order stays, with the anonymous id')
  t.equal(kept.payment_status, 'paid')
  t.equal(kept.shipping_address.fullName, 'Deleted user')
  t.equal(kept.shipping_address.phone, '')
  t.equal(kept.shipping_address.line1, '')
  t.equal(kept.shipping_address.city, 'Ikeja', 'the city stays')
  t.equal((await app.db('reviews').where('buyer_id', buyer.id)).length, 1, 'the review stays')
  const cancelled = await app.db('orders').where('id', pending.orderId).first()
  t.match(cancelled, { payment_status: 'expired', cancel_reason: 'account_deleted' })
  t.ok(cancelled.cancelled_at)
  t.equal(await available(app, listing.id), 1, "the unpaid checkout's reservation is released")
  t.ok((await app.db('audit_log').where({ target_id: order.id })).length > 0, "the order's audit rows stay")
  const deletion = await app.db('audit_log').where({ action: 'account.deleted', target_id: buyer.id })
  t.equal(deletion.length, 1, 'the erasure is audited')
  t.equal(deletion[0].actor_id, buyer.id)
  t.match(deletion[0].after, { listingsRemoved: 0, ordersCancelled: [pending.orderId] })
  t.ok(Number((await app.db('audit_log').count({ n: '*' }).first()).n) > Number(auditBefore.n))

  const profile = await call(app, 'GET', `/v1/users/${buyer.id}`)
  t.equal(profile.statusCode, 404, 'the public profile is gone')
  const signIn = await login(app, buyer.email, buyer.password)
  t.equal(signIn.statusCode, 401)
  t.equal(signIn.json.code, 'INVALID_CREDENTIALS', 'like an unknown email')
  const unknown = await login(app, uniqueEmail('never'), buyer.password)
  t.same(
    { status: signIn.statusCode, code: signIn.json.code, detail: signIn.json.detail },
    { status: unknown.statusCode, code: unknown.json.code, detail: unknown.json.detail },
  )
  const again = await deleteAccount(app, buyer, buyer.password)
  t.equal(again.statusCode, 401, 'a second DELETE with the old token')
  t.equal((await me(app, second.accessToken)).statusCode, 401, 'every session ended')
  t.equal((await refresh(app, second.refreshToken)).statusCode, 401)

  const fresh = await call(app, 'POST', '/v1/auth/register', {
    body: { email: buyer.email, password: 'another passphrase', name: 'New Person' },
  })
  t.equal(fresh.statusCode, 201, 'the email is free for a new account')
  t.not(fresh.json.user.id, buyer.id)
})

void t.test("DELETE /v1/me: the seller's listings are removed and their photos go", async (t) => {
  const { app, seller, listing } = await busyPair(t)
  await app.db('listing_images').insert({
    id: randomUUID(),
    listing_id: listing.id,
    position: 0,
    variants: JSON.stringify({
      thumb: {
        pathname: `listings/${listing.id}/a-thumb.webp`,
        url: 'https://blob.test/a-thumb.webp',
        width: 1,
        height: 1,
        bytes: 1,
      },
    }),
    width: 1,
    height: 1,
  })
  t.equal((await deleteAccount(app, seller, seller.password)).statusCode, 202)
  const listings = await app.db('listings').where('seller_id', seller.id)
  t.ok(listings.length >= 2)
  t.ok(
    listings.every((l) => l.status === 'removed'),
    'every listing removed',
  )
  t.equal((await app.db('listing_images').where('listing_id', listing.id)).length, 0, 'photos gone')
  t.equal((await call(app, 'GET', `/v1/listings/${listing.id}`)).statusCode, 404)
  t.equal((await call(app, 'GET', `/v1/users/${seller.id}/reviews`)).statusCode, 404, 'no review page either')
  t.equal((await app.db('shipments').where('seller_id', seller.id)).length, 1, 'the sale stays')
  t.equal(
    (await app.db('audit_log').where({ action: 'account.deleted', target_id: seller.id }).first()).after
      .listingsRemoved,
    3,
  )
})

void t.test(
  'DELETE /v1/me racing a payment: either refused with the paid order, or the checkout is cancelled',
  async (t) => {
    const { app, paystack } = await commerceApp(t)
    const seller = await aUser(app)
    for (let round = 0; round < 4; round++) {
      const buyer = await aUser(app)
      const listing = await aListing(app.db, seller.id)
      const pending = await pendingCheckout(app, buyer, listing.id)
      paystack.pay(pending.reference)
      const [deletion, verify] = await Promise.all([
        deleteAccount(app, buyer, buyer.password),
        call(app, 'POST', `/v1/orders/${pending.orderId}/verify-payment`, { token: buyer.accessToken }),
      ])
      await app.commerce.idle()
      t.ok([202, 409].includes(deletion.statusCode), `round ${round}: ${deletion.statusCode} ${deletion.body}`)
      const order = await app.db('orders').where('id', pending.orderId).first()
      if (deletion.statusCode === 409) {
        t.same(deletion.json.reasons, ['paid_order'])
        t.equal(order.payment_status, 'paid', 'paid first: the account stays')
        t.equal(verify.statusCode, 200)
      } else {
        t.ok(order.cancelled_at, 'erased first: the checkout was cancelled')
        // Paystack's webhook then tells of the captured money: it is refunded, never kept.
        await postWebhook(app, paystack.chargeSuccess(pending.reference))
        await app.commerce.idle()
        const settled = await app.db('orders').where('id', pending.orderId).first()
        t.not(settled.payment_status, 'paid', 'not honoured as a sale')
      }
    }
    // And in that order for certain: erased first, the payment arrives afterwards.
    const buyer = await aUser(app)
    const listing = await aListing(app.db, seller.id)
    const pending = await pendingCheckout(app, buyer, listing.id)
    paystack.pay(pending.reference)
    t.equal((await deleteAccount(app, buyer, buyer.password)).statusCode, 202)
    t.equal((await postWebhook(app, paystack.chargeSuccess(pending.reference))).statusCode, 200)
    await app.commerce.idle()
    const late = await app.db('orders').where('id', pending.orderId).first()
    t.not(late.payment_status, 'paid', 'a payment after the erasure is not honoured')
    t.ok((await app.db('refunds').where('order_id', pending.orderId)).length > 0, 'it is refunded')
  },
)

void t.test('GET /v1/me/export: a section over the limit is cut there and named, never silently', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  await app.db.raw(
    `insert into notifications (user_id, type, data)
     select ?::uuid, 'price_drop', jsonb_build_object('n', g) from generate_series(1, 10001) g`,
    [u.id],
  )
  const res = await call(app, 'GET', '/v1/me/export', { token: u.accessToken })
  t.equal(res.statusCode, 200)
  t.equal(res.json.notifications.length, 10_000)
  t.same(res.json.truncated, ['notifications'])
  t.same(res.json.limits, { perSection: 10_000 })
})
