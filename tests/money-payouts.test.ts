/**
 * Seller money, part two: payouts through Paystack Transfers. The payout account (resolved,
 * replaced, removed; the full number never shown), withdrawals under concurrency, the
 * transfer.* webhooks (confirmed with verify, in any order, any number of times), a lost
 * answer verified rather than sent twice, Paystack's balance running short, and the ledger
 * check's payouts part. Every test ends with the ledger check against the fake Paystack
 * (tests/helpers/reconcile.ts through commerceApp).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import t from 'tap'
import { call, type TestApp } from './helpers/app.js'
import { commerceApp, postWebhook, sweep } from './factories/commerce.js'
import { balanceOf, receivedSale } from './factories/money.js'
import { aUser, anAdmin, type SignedInUser } from './factories/users.js'
import type { FakePaystack } from './fakes/paystack.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

/** The seller's share of a 5,000,000 kobo line at 5 % fee and 7.5 % VAT on it. */
const SHARE = 5_000_000 - 250_000 - 18_750

/** A seller whose sale of `price` was received by the buyer: its share is available. */
async function sellerWithMoney(app: TestApp, paystack: FakePaystack, price = 5_000_000): Promise<SignedInUser> {
  return (await receivedSale(app, paystack, price)).seller
}

async function setAccount(app: TestApp, user: SignedInUser, bankCode = '058', accountNumber = '0123456789') {
  return call(app, 'PUT', '/v1/me/payout-account', { token: user.accessToken, body: { bankCode, accountNumber } })
}

async function withdraw(app: TestApp, user: SignedInUser, body: Json = {}, key: string | null = randomUUID()) {
  return call(app, 'POST', '/v1/payouts', {
    token: user.accessToken,
    body,
    headers: key === null ? {} : { 'idempotency-key': key },
  })
}

/** Runs every background job once and waits for what they handed over (payouts' sends and verifies too). */
async function sweepAll(app: TestApp): Promise<void> {
  await sweep(app)
  await app.payouts.idle()
  await app.commerce.idle()
}

/** Sends a signed webhook and waits until it was processed. */
async function deliver(app: TestApp, hook: { payload: string; headers: Record<string, string> }) {
  const res = await postWebhook(app, hook)
  await app.commerce.idle()
  return res
}

async function payoutRow(app: TestApp, id: string): Promise<Json> {
  return app.db('payouts').where('id', id).first()
}

void t.test('banks and the payout account: resolved, replaced, removed; the full number never shown', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await aUser(app, { name: 'Ada Seller' })
  const bodies: string[] = []
  const seen = async <T extends { body: string }>(p: Promise<T>) => {
    const res = await p
    bodies.push(res.body)
    return res
  }

  t.equal((await call(app, 'GET', '/v1/banks')).statusCode, 401, 'signed-in users only')
  const banks = await seen(call(app, 'GET', '/v1/banks', { token: seller.accessToken }))
  t.equal(banks.statusCode, 200)
  t.ok(
    banks.json.some((b: Json) => b.code === '058' && b.name === 'Guaranty Trust Bank'),
    'Paystack’s banks, as {code,name}',
  )
  t.same(Object.keys(banks.json[0]).sort(), ['code', 'name'])
  await call(app, 'GET', '/v1/banks', { token: seller.accessToken })
  t.equal(paystack.callsTo('/bank?').length, 1, 'the list is cached')

  t.equal((await seen(call(app, 'GET', '/v1/me/payout-account', { token: seller.accessToken }))).statusCode, 404)
  t.equal((await seen(call(app, 'DELETE', '/v1/me/payout-account', { token: seller.accessToken }))).statusCode, 404)

  const unresolved = await seen(setAccount(app, seller, '058', '0001234567'))
  t.equal(unresolved.statusCode, 422)
  t.equal(unresolved.json.code, 'BANK_ACCOUNT_UNRESOLVED')
  const unknownBank = await seen(setAccount(app, seller, '999', '0123456789'))
  t.equal(unknownBank.statusCode, 422)
  t.equal(unknownBank.json.code, 'BANK_CODE_UNKNOWN')
  const short = await seen(setAccount(app, seller, '058', '12345'))
  t.equal(short.statusCode, 400, 'ten digits')
  paystack.modes.resolve = 'error500'
  const down = await seen(setAccount(app, seller))
  t.equal(down.statusCode, 503)
  t.equal(down.json.code, 'PAYOUT_PROVIDER_UNAVAILABLE')
  t.ok(down.headers['retry-after'], 'with Retry-After')
  paystack.modes.resolve = 'ok'

  paystack.accounts.set('058:0123456789', 'ADA OBI')
  const set = await seen(setAccount(app, seller))
  t.equal(set.statusCode, 200, set.body)
  t.match(set.json, {
    bankCode: '058',
    bankName: 'Guaranty Trust Bank',
    accountName: 'ADA OBI',
    accountNumberLast4: '6789',
  })
  t.ok(Date.parse(set.json.verifiedAt))
  t.equal(paystack.callsTo('/transferrecipient').length, 1, 'a transfer recipient was made')
  const added = await app.db('audit_log').where({ action: 'payout_account.added', target_id: seller.id }).first()
  t.match(added?.after, { bankCode: '058', accountNumberLast4: '6789' }, 'adding is audited')

  const replaced = await seen(setAccount(app, seller, '044', '1234567890'))
  t.equal(replaced.statusCode, 200)
  t.match(replaced.json, { bankCode: '044', bankName: 'Access Bank', accountNumberLast4: '7890' })
  const changed = await app.db('audit_log').where({ action: 'payout_account.changed', target_id: seller.id }).first()
  t.match(changed?.before, { bankCode: '058', accountNumberLast4: '6789', accountName: 'ADA OBI' })
  t.match(changed?.after, { bankCode: '044', accountNumberLast4: '7890' })
  const mails = await app.db('mail_outbox').where('to_address', seller.email).orderBy('created_at')
  const warning = mails.find((m: Json) => /payout account was changed/i.test(m.subject))
  t.ok(warning, 'the seller is mailed when the account changes')
  t.match(warning?.text_body, /If this was not you/)
  t.match(warning?.text_body, /ending 6789/)
  t.match(warning?.text_body, /ending 7890/)

  const got = await seen(call(app, 'GET', '/v1/me/payout-account', { token: seller.accessToken }))
  t.equal(got.statusCode, 200)
  t.equal(got.json.accountNumberLast4, '7890')

  const removed = await seen(call(app, 'DELETE', '/v1/me/payout-account', { token: seller.accessToken }))
  t.equal(removed.statusCode, 204)
  t.ok(await app.db('audit_log').where({ action: 'payout_account.removed', target_id: seller.id }).first())
  t.equal((await call(app, 'GET', '/v1/me/payout-account', { token: seller.accessToken })).statusCode, 404)
  const removedMail = await app
    .db('mail_outbox')
    .where('to_address', seller.email)
    .where('subject', 'like', '%removed%')
  t.equal(removedMail.length, 1, 'removal is mailed too')

  const everything = [
    ...bodies,
    JSON.stringify(await app.db('audit_log').where('target_id', seller.id)),
    JSON.stringify(await app.db('mail_outbox').where('to_address', seller.email)),
  ].join('\n')
  t.notOk(everything.includes('0123456789'), 'the full number is in no answer, audit row or mail')
  t.notOk(everything.includes('1234567890'))
})

void t.test('a payout: processing, then paid by webhook; balance, notification and mail', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  const admin = await anAdmin(app)
  const stranger = await aUser(app)
  t.equal((await setAccount(app, seller)).statusCode, 200)
  t.match(await balanceOf(app, seller), { available: SHARE, inTransit: 0, paidOut: 0 })

  const res = await withdraw(app, seller)
  t.equal(res.statusCode, 201, res.body)
  const payout = res.json
  t.match(payout, { amount: SHARE, currency: 'NGN', status: 'processing' }, 'all of available by default')
  t.match(payout.reference, /^oja-po-[0-9a-f]{32}$/)
  t.equal(res.headers.location, `/v1/payouts/${payout.id}`)
  t.same(Object.keys(payout).sort(), ['amount', 'createdAt', 'currency', 'id', 'reference', 'status', 'updatedAt'])
  t.match(await balanceOf(app, seller), { available: 0, inTransit: SHARE, paidOut: 0 })
  t.equal(paystack.transferCalls(payout.reference).length, 1)
  t.match(paystack.transfers.get(payout.reference), { amount: SHARE, status: 'pending' })

  t.equal((await call(app, 'GET', `/v1/payouts/${payout.id}`, { token: seller.accessToken })).statusCode, 200)
  t.equal((await call(app, 'GET', `/v1/payouts/${payout.id}`, { token: stranger.accessToken })).statusCode, 404)
  t.equal((await call(app, 'GET', `/v1/payouts/${payout.id}`, { token: admin.accessToken })).statusCode, 200)
  const mine = await call(app, 'GET', '/v1/payouts', { token: seller.accessToken })
  t.same(
    mine.json.items.map((p: Json) => p.id),
    [payout.id],
  )
  t.same((await call(app, 'GET', '/v1/payouts', { token: stranger.accessToken })).json.items, [])

  const hook = paystack.settleTransfer(payout.reference, 'success')
  t.equal((await deliver(app, hook)).statusCode, 200)
  const paid = await call(app, 'GET', `/v1/payouts/${payout.id}`, { token: seller.accessToken })
  t.equal(paid.json.status, 'paid')
  t.match(await balanceOf(app, seller), { available: 0, inTransit: 0, paidOut: SHARE })
  const notes = await app.db('notifications').where({ user_id: seller.id, type: 'payout' })
  t.equal(notes.length, 1)
  t.same(notes[0].data, { payoutId: payout.id, status: 'paid', amount: SHARE })
  const mail = await app.db('mail_outbox').where('to_address', seller.email).where('subject', 'like', '%has been paid%')
  t.equal(mail.length, 1, 'the seller is mailed')
  t.match(mail[0].text_body, /ending 6789/)

  // The same webhook again, and once more after a new delivery id: nothing moves twice.
  await deliver(app, hook)
  await deliver(app, paystack.webhook('transfer.success', { ...JSON.parse(hook.payload).data, id: 424242 }))
  t.match(await balanceOf(app, seller), { available: 0, inTransit: 0, paidOut: SHARE })
  t.equal((await app.db('notifications').where({ user_id: seller.id, type: 'payout' })).length, 1)

  // The payout account cannot be changed while a payout is on its way: not the case any more.
  t.equal((await setAccount(app, seller, '044', '1234567890')).statusCode, 200)
})

void t.test('a failed payout returns its money; a reversal after payment too', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  await setAccount(app, seller)

  const first = (await withdraw(app, seller, { amount: 1_000_000 })).json
  t.equal(first.status, 'processing')
  const busy = await setAccount(app, seller, '044', '1234567890')
  t.equal(busy.statusCode, 409, 'the account cannot change while a payout is on its way')
  t.equal(busy.json.code, 'PAYOUT_IN_PROGRESS')
  t.equal((await call(app, 'DELETE', '/v1/me/payout-account', { token: seller.accessToken })).statusCode, 409)

  await deliver(app, paystack.settleTransfer(first.reference, 'failed'))
  const failed = (await call(app, 'GET', `/v1/payouts/${first.id}`, { token: seller.accessToken })).json
  t.equal(failed.status, 'failed')
  t.type(failed.failureReason, 'string')
  t.match(await balanceOf(app, seller), { available: SHARE, inTransit: 0, paidOut: 0 }, 'the money is back')
  const failedNote = await app.db('notifications').where({ user_id: seller.id, type: 'payout' }).first()
  t.same(failedNote?.data, { payoutId: first.id, status: 'failed', amount: 1_000_000 })
  t.equal(
    (await app.db('mail_outbox').where('to_address', seller.email).where('subject', 'like', '%could not be paid%'))
      .length,
    1,
  )

  const second = (await withdraw(app, seller, { amount: 2_000_000 })).json
  await deliver(app, paystack.settleTransfer(second.reference, 'success'))
  t.match(await balanceOf(app, seller), { available: SHARE - 2_000_000, paidOut: 2_000_000 })
  await deliver(app, paystack.settleTransfer(second.reference, 'reversed'))
  const reversed = (await call(app, 'GET', `/v1/payouts/${second.id}`, { token: seller.accessToken })).json
  t.equal(reversed.status, 'reversed')
  t.match(await balanceOf(app, seller), { available: SHARE, inTransit: 0, paidOut: 0 }, 'paid out less the reversal')
  t.equal(
    (await app.db('mail_outbox').where('to_address', seller.email).where('subject', 'like', '%was returned%')).length,
    1,
  )
  // The success webhook delivered again after the reversal changes nothing.
  const stale = paystack.webhook('transfer.success', {
    ...paystack.transferData(paystack.transfers.get(second.reference)!, true),
    status: 'success',
    id: 777,
  })
  await deliver(app, stale)
  t.equal((await payoutRow(app, second.id)).status, 'reversed')
  t.match(await balanceOf(app, seller), { available: SHARE, paidOut: 0 })
})

void t.test('webhooks out of order, unverified, contradicting verify, or for unknown references', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  await setAccount(app, seller)
  const payout = (await withdraw(app, seller, { amount: 1_500_000 })).json
  const tr = paystack.transfers.get(payout.reference)!

  // Paystack says success in a webhook while its verify still says pending: retried later.
  const early = paystack.webhook('transfer.success', {
    ...paystack.transferData(tr, true),
    status: 'success',
    id: 5150,
  })
  t.equal((await deliver(app, early)).statusCode, 200)
  t.equal((await payoutRow(app, payout.id)).status, 'processing', 'not paid on the webhook’s word')
  const event = await app.db('payment_events').where('event', 'transfer.success').first()
  t.equal(event.processed_at, null, 'kept to be retried')
  t.match(event.last_error, /not final yet/)

  // A signed webhook whose amount disagrees with Paystack's verify changes nothing.
  const successHook = paystack.settleTransfer(payout.reference, 'success')
  const forged = paystack.webhook('transfer.success', { ...JSON.parse(successHook.payload).data, amount: 1, id: 31337 })
  await deliver(app, forged)
  t.equal((await payoutRow(app, payout.id)).status, 'processing')

  // Reversed arrives before success: the payout follows verify (reversed, never paid here).
  const reversedHook = paystack.settleTransfer(payout.reference, 'reversed')
  await deliver(app, reversedHook)
  t.equal((await payoutRow(app, payout.id)).status, 'reversed')
  await deliver(app, successHook)
  await sweepAll(app) // the early webhook is replayed: verify says reversed, nothing moves
  const row = await payoutRow(app, payout.id)
  t.equal(row.status, 'reversed')
  t.equal(row.paid_at, null)
  t.match(await balanceOf(app, seller), { available: SHARE, inTransit: 0, paidOut: 0 })
  t.equal((await app.db('notifications').where({ user_id: seller.id, type: 'payout' })).length, 1)

  // References that are not a payout of ours: ignored, and marked processed.
  const unknownRef = `oja-po-${randomBytes(16).toString('hex')}`
  const unknown = paystack.webhook('transfer.success', {
    ...JSON.parse(successHook.payload).data,
    reference: unknownRef,
    id: 1,
  })
  t.equal((await deliver(app, unknown)).statusCode, 200)
  const foreign = paystack.webhook('transfer.failed', { reference: 'trf_someone_else_entirely', amount: 5, id: 2 })
  t.equal((await deliver(app, foreign)).statusCode, 200)
  const left = await app.db('payment_events').whereIn('reference', [unknownRef, 'trf_someone_else_entirely'])
  t.equal(left.length, 2)
  t.ok(
    left.every((e: Json) => e.processed_at !== null),
    'processed as ignored',
  )
})

void t.test('50 withdrawals at once never take more than is available', async (t) => {
  const { app, paystack } = await commerceApp(t, { DATABASE_POOL_MAX: 8 })
  const seller = await sellerWithMoney(app, paystack)
  await setAccount(app, seller)
  const each = 400_000
  const answers = await Promise.all(Array.from({ length: 50 }, () => withdraw(app, seller, { amount: each })))
  const statuses = answers.map((a) => a.statusCode)
  t.same([...new Set(statuses)].sort(), [201, 422], 'each is created or refused, nothing else')
  const created = answers.filter((a) => a.statusCode === 201).map((a) => a.json)
  t.equal(created.length, Math.floor(SHARE / each), 'exactly as many as fit')
  t.ok(answers.filter((a) => a.statusCode === 422).every((a) => a.json.code === 'PAYOUT_NOT_ALLOWED'))
  t.ok(created.length * each <= SHARE)
  const balance = await balanceOf(app, seller)
  t.equal(balance.available, SHARE - created.length * each)
  t.ok(balance.available >= 0, 'never below zero')
  t.equal(balance.inTransit, created.length * each)
  const rows = await app.db('payouts').where('seller_id', seller.id)
  t.equal(rows.length, created.length)
  const ours = [...paystack.transfers.values()].filter((tr) => tr.reference.startsWith('oja-po-'))
  t.same(
    ours.map((tr) => [tr.reference, tr.amount]).sort(),
    rows.map((r: Json) => [r.reference, Number(r.amount)]).sort(),
    'Paystack’s transfers are exactly our payouts',
  )
})

void t.test('Idempotency-Key, limits and refusals', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)

  const none = await withdraw(app, seller, {})
  t.equal(none.statusCode, 422)
  t.match(none.json, { code: 'PAYOUT_NOT_ALLOWED', reason: 'no_payout_account' })
  await setAccount(app, seller)

  const missing = await withdraw(app, seller, {}, null)
  t.equal(missing.statusCode, 400)
  t.equal(missing.json.code, 'IDEMPOTENCY_KEY_REQUIRED')

  const low = await withdraw(app, seller, { amount: 99_999 })
  t.equal(low.statusCode, 422)
  t.match(low.json, { code: 'PAYOUT_NOT_ALLOWED', reason: 'below_minimum', minimum: 100_000 })
  t.match(low.json.detail, /at least/)
  const high = await withdraw(app, seller, { amount: SHARE + 1 })
  t.equal(high.statusCode, 422)
  t.match(high.json, { reason: 'above_available', available: SHARE })
  t.equal((await withdraw(app, seller, { amount: 0 })).statusCode, 400)
  t.equal((await withdraw(app, seller, { amount: 100_000, extra: 1 })).statusCode, 400, 'unknown fields refused')

  const key = randomUUID()
  const once = await withdraw(app, seller, { amount: 1_000_000 }, key)
  const twice = await withdraw(app, seller, { amount: 1_000_000 }, key)
  t.equal(once.statusCode, 201)
  t.equal(twice.statusCode, 201)
  t.equal(twice.json.id, once.json.id, 'the same payout')
  t.equal(twice.body, once.body, 'the first answer, as it was')
  t.equal(twice.headers.location, `/v1/payouts/${once.json.id}`, 'with its Location')
  t.equal(twice.headers['idempotent-replayed'], 'true')
  t.equal((await app.db('payouts').where('seller_id', seller.id)).length, 1)
  t.equal(paystack.transferCalls(once.json.reference).length, 1)
  const reused = await withdraw(app, seller, { amount: 2_000_000 }, key)
  t.equal(reused.statusCode, 409)
  t.equal(reused.json.code, 'IDEMPOTENCY_KEY_REUSED')

  // A banned seller is refused by sign-in itself.
  await app.db('users').where('id', seller.id).update({ banned_at: new Date() })
  const banned = await withdraw(app, seller, { amount: 100_000 })
  t.equal(banned.statusCode, 403)
  t.equal(banned.json.code, 'ACCOUNT_BANNED')
  await app.db('users').where('id', seller.id).update({ banned_at: null })

  // After a refund of released money, available can be negative: nothing can be withdrawn.
  const broke = await aUser(app)
  await setAccount(app, broke, '058', '2223334445')
  await app.spine.transaction({ db: app.db, log: app.log }, (tx) =>
    app.ledger.adjust(tx, {
      sellerId: broke.id,
      amount: -50_000,
      currency: 'NGN',
      note: 'test: a refund after release',
      key: `test-adjust:${broke.id}`,
      actorId: seller.id,
    }),
  )
  const negative = await withdraw(app, broke, { amount: 100_000 })
  t.equal(negative.statusCode, 422)
  t.match(negative.json, { reason: 'nothing_available', available: -50_000 })
})

void t.test('a lost answer is verified, never sent twice', async (t) => {
  const { app, paystack } = await commerceApp(t, { PAYSTACK_TIMEOUT_MS: 500 })
  const seller = await sellerWithMoney(app, paystack)
  await setAccount(app, seller)

  paystack.modes.transfer = 'lostAnswer'
  const res = await withdraw(app, seller, { amount: 1_000_000 })
  t.equal(res.statusCode, 201)
  t.equal(res.json.status, 'pending', 'the outcome is unknown')
  t.match(paystack.transfers.get(res.json.reference), { status: 'pending' }, 'Paystack made it')
  paystack.modes.transfer = 'ok'

  await sweepAll(app)
  t.equal((await payoutRow(app, res.json.id)).status, 'processing', 'verify found it')
  t.equal(paystack.transferCalls(res.json.reference).length, 1, 'sent exactly once')
  await deliver(app, paystack.settleTransfer(res.json.reference, 'success'))
  t.equal((await payoutRow(app, res.json.id)).status, 'paid')

  // Paystack down when it is sent: not made there; the retry asks first, then sends.
  paystack.modes.transfer = 'error500'
  const down = await withdraw(app, seller, { amount: 1_000_000 })
  t.equal(down.json.status, 'pending')
  t.notOk(paystack.transfers.has(down.json.reference))
  paystack.modes.transfer = 'ok'
  // Two nodes' sweepers at once: the lease lets one of them send it.
  const system = { db: app.db, log: app.log }
  const sent = await Promise.all([
    app.payouts.service.send(system, down.json.id, true),
    app.payouts.service.send(system, down.json.id, true),
  ])
  t.same(sent.sort(), [false, true], 'one sender, the other left it alone')
  t.equal(paystack.transferCalls(down.json.reference).length, 2, 'the refused send and one more, no third')
  t.equal((await payoutRow(app, down.json.id)).status, 'processing')
  t.equal(paystack.transfers.get(down.json.reference)?.amount, 1_000_000)
  t.ok(
    paystack.callsTo(`/transfer/verify/${down.json.reference}`).length >= 1,
    'Paystack was asked before the second send',
  )

  // "Duplicate reference" while Paystack cannot show the transfer: it waits, and is adopted once Paystack shows it.
  paystack.modes.transfer = 'duplicateReference'
  const dup = await withdraw(app, seller, { amount: 1_000_000 })
  t.equal(dup.json.status, 'pending')
  paystack.modes.transfer = 'ok'
  const ref = dup.json.reference as string
  const recipient = [...paystack.recipients.values()][0]!
  const now = new Date().toISOString()
  paystack.transfers.set(ref, {
    id: 99_000_001,
    reference: ref,
    transfer_code: 'TRF_adopted',
    amount: 1_000_000,
    currency: 'NGN',
    reason: '',
    recipient_code: recipient.recipient_code,
    status: 'pending',
    createdAt: now,
    updatedAt: now,
    transferred_at: null,
  })
  await sweepAll(app)
  t.equal((await payoutRow(app, dup.json.id)).status, 'processing', 'adopted')
  t.equal(paystack.transferCalls(ref).length, 1, 'never sent again')

  // A lost webhook: a processing payout is verified by the sweeper after a while.
  paystack.settleTransfer(down.json.reference, 'success')
  await app
    .db('payouts')
    .where('id', down.json.id)
    .update({ next_attempt_at: app.db.raw("now() - interval '1 second'") })
  await sweepAll(app)
  t.equal((await payoutRow(app, down.json.id)).status, 'paid', 'verified without its webhook')
  t.match(await balanceOf(app, seller), { paidOut: 2_000_000, inTransit: 1_000_000 })
})

void t.test('Paystack’s balance short: the payout waits, admins are told once, a retry sends it', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  const admin = await anAdmin(app)
  await setAccount(app, seller)
  paystack.setBalance(0)

  const a = (await withdraw(app, seller, { amount: 1_000_000 })).json
  const b = (await withdraw(app, seller, { amount: 1_000_000 })).json
  t.equal(a.status, 'pending')
  t.equal(b.status, 'pending')
  t.match(
    await balanceOf(app, seller),
    { available: SHARE - 2_000_000, inTransit: 2_000_000 },
    'the money waits in transit',
  )
  const alerts = async () => app.db('notifications').where({ user_id: admin.id, type: 'payout_pending' })
  t.same(
    (await alerts()).map((n: Json) => n.data).sort((x: Json, y: Json) => x.payoutId.localeCompare(y.payoutId)),
    [
      { payoutId: a.id, amount: 1_000_000 },
      { payoutId: b.id, amount: 1_000_000 },
    ].sort((x, y) => x.payoutId.localeCompare(y.payoutId)),
  )
  // Still short at the next try: no second alert.
  await app
    .db('payouts')
    .whereIn('id', [a.id, b.id])
    .update({ next_attempt_at: app.db.raw("now() - interval '1 second'") })
  await sweepAll(app)
  t.equal((await payoutRow(app, a.id)).status, 'pending')
  t.equal((await alerts()).length, 2, 'once per payout')
  const listed = await call(app, 'GET', '/v1/admin/payouts?status=pending', { token: admin.accessToken })
  t.equal(listed.statusCode, 200)
  t.same(listed.json.items.map((p: Json) => p.id).sort(), [a.id, b.id].sort())
  t.match(listed.json.items[0], { sellerId: seller.id, lastError: /balance/ })

  paystack.setBalance(1_000_000_000)
  // One by the sweeper when due, one by an admin now.
  await app
    .db('payouts')
    .where('id', a.id)
    .update({ next_attempt_at: app.db.raw("now() - interval '1 second'") })
  await sweepAll(app)
  t.equal((await payoutRow(app, a.id)).status, 'processing')
  const retried = await call(app, 'POST', `/v1/admin/payouts/${b.id}/retry`, { token: admin.accessToken })
  t.equal(retried.statusCode, 200, retried.body)
  t.equal(retried.json.status, 'processing')
  t.equal(retried.json.reference, b.reference, 'the same reference')
  t.equal(paystack.transfers.get(b.reference)?.amount, 1_000_000)
  t.ok(await app.db('audit_log').where({ action: 'admin.payout_retried', target_id: b.id }).first(), 'audited')
  t.equal((await call(app, 'POST', `/v1/admin/payouts/${b.id}/retry`, { token: seller.accessToken })).statusCode, 403)

  await deliver(app, paystack.settleTransfer(a.reference, 'failed'))
  const again = await call(app, 'POST', `/v1/admin/payouts/${a.id}/retry`, { token: admin.accessToken })
  t.equal(again.statusCode, 409)
  t.equal(again.json.code, 'PAYOUT_NOT_RETRYABLE')
  t.equal(
    (await call(app, 'POST', `/v1/admin/payouts/${randomUUID()}/retry`, { token: admin.accessToken })).statusCode,
    404,
  )
  await deliver(app, paystack.settleTransfer(b.reference, 'success'))
  t.match(await balanceOf(app, seller), { available: SHARE - 1_000_000, inTransit: 0, paidOut: 1_000_000 })
})

void t.test('refused transfers fail at once; an OTP transfer is raised to admins', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  const admin = await anAdmin(app)
  await setAccount(app, seller)

  paystack.modes.transfer = 'statusFalse'
  const refused = await withdraw(app, seller, { amount: 1_000_000 })
  t.equal(refused.statusCode, 201)
  t.equal(refused.json.status, 'failed')
  t.match(refused.json.failureReason, /Paystack refused/)
  t.match(await balanceOf(app, seller), { available: SHARE, inTransit: 0 })
  const note = await app.db('notifications').where({ user_id: seller.id, type: 'payout' }).first()
  t.match(note?.data, { payoutId: refused.json.id, status: 'failed' })

  paystack.modes.transfer = 'otp'
  const otp = await withdraw(app, seller, { amount: 1_000_000 })
  t.equal(otp.json.status, 'processing')
  const raised = await app.db('notifications').where({ user_id: admin.id, type: 'payout_otp' })
  t.equal(raised.length, 1)
  t.match(raised[0].data, { payoutId: otp.json.id, amount: 1_000_000 })
  paystack.modes.transfer = 'ok'
  await app
    .db('payouts')
    .where('id', otp.json.id)
    .update({ next_attempt_at: app.db.raw("now() - interval '1 second'") })
  await sweepAll(app)
  t.equal((await app.db('notifications').where({ user_id: admin.id, type: 'payout_otp' })).length, 1, 'once')
})

void t.test('paging my payouts, newest first', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  await setAccount(app, seller)
  const ids: string[] = []
  for (let i = 0; i < 3; i++) ids.push((await withdraw(app, seller, { amount: 1_000_000 })).json.id)
  const first = await call(app, 'GET', '/v1/payouts?limit=2', { token: seller.accessToken })
  t.same(
    first.json.items.map((p: Json) => p.id),
    [ids[2], ids[1]],
  )
  t.type(first.json.nextCursor, 'string')
  const second = await call(app, 'GET', `/v1/payouts?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`, {
    token: seller.accessToken,
  })
  t.same(
    second.json.items.map((p: Json) => p.id),
    [ids[0]],
  )
  t.equal(second.json.nextCursor, null)
  for (const id of ids) await deliver(app, paystack.settleTransfer((await payoutRow(app, id)).reference, 'success'))
})

void t.test('the ledger check compares payouts with Paystack’s transfers', async (t) => {
  const { app, paystack } = await commerceApp(t)
  const seller = await sellerWithMoney(app, paystack)
  const admin = await anAdmin(app)
  await setAccount(app, seller)
  const payout = (await withdraw(app, seller, { amount: 1_000_000 })).json
  await deliver(app, paystack.settleTransfer(payout.reference, 'success'))
  const clean = await call(app, 'GET', '/v1/admin/ledger/check', { token: admin.accessToken })
  t.same(clean.json, { balanced: true, mismatches: [] })

  // A transfer with our prefix that no payout has, and a paid payout Paystack reversed unseen.
  const rogue = `oja-po-${randomBytes(16).toString('hex')}`
  const recipient = [...paystack.recipients.values()][0]!
  const now = new Date().toISOString()
  paystack.transfers.set(rogue, {
    id: 99_000_002,
    reference: rogue,
    transfer_code: 'TRF_rogue',
    amount: 123_456,
    currency: 'NGN',
    reason: '',
    recipient_code: recipient.recipient_code,
    status: 'success',
    createdAt: now,
    updatedAt: now,
    transferred_at: now,
  })
  paystack.transfers.get(payout.reference)!.status = 'reversed'
  const dirty = await call(app, 'GET', '/v1/admin/ledger/check', { token: admin.accessToken })
  t.equal(dirty.json.balanced, false)
  t.same(
    dirty.json.mismatches.map((m: Json) => [m.kind, m.ref]).sort(),
    [
      ['transfer_status_mismatch', payout.reference],
      ['transfer_unknown', rogue],
    ].sort(),
  )
  // Put Paystack back as it was, so the check at the end of the test is clean.
  paystack.transfers.delete(rogue)
  paystack.transfers.get(payout.reference)!.status = 'success'
})
