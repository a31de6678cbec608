/**
 * One Paystack contract, run against every Paystack Oja knows: the real client
 * (src/payments/paystack.client.ts) talking to the test fake over loopback HTTP, the built-in
 * simulator (src/payments/paystack-simulator.ts) served over loopback, and the fake itself.
 * Where one of them differs from Paystack's documented behaviour, the fake or the simulator is
 * fixed, not this test. Two parts: charges and refunds, then transfers (seller payouts) with
 * the balance they draw on.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test as TapTest } from 'tap'
import { PaystackSimulator, simulatorRoutes } from '../src/payments/paystack-simulator.js'
import {
  createPaystackClient,
  isDuplicateTransferReference,
  isInsufficientBalance,
  listQueryString,
  PaystackError,
  type ListPage,
  type ListQuery,
} from '../src/payments/paystack.client.js'
import { isValidPaystackSignature } from '../src/payments/webhook-signature.js'
import { FakePaystack } from './fakes/paystack.js'

type Test = TapTest
type Json = Record<string, unknown>
/** An answer: Paystack's `data` when it said yes; its HTTP status and `{status:false, message}` when it said no. */
type Answer = { ok: true; data: Json | Json[]; meta?: Json } | { ok: false; httpStatus: number; body: Json }
type Outcome = 'success' | 'failed' | 'abandoned'
type Initialized = { reference: string; access_code: string; authorization_url: string }

type PaystackImpl = {
  name: string
  secretKey: string
  initialize(body: Json, key?: string): Promise<Answer>
  verify(reference: string, key?: string): Promise<Answer>
  refund(body: Json): Promise<Answer>
  listRefunds(transactionId: number): Promise<Answer>
  /** `GET /transaction` and `GET /refund` over a period (reconciliation), one page with its `meta`. */
  listTransactions(query: ListQuery): Promise<Answer>
  listRefundsBetween(query: ListQuery): Promise<Answer>
  /** The customer finishes (or leaves) the hosted page. */
  complete(init: Initialized, outcome: Outcome): Promise<void>
  outcomes: Outcome[]
  /** The signed charge.success webhook Paystack sends for a paid transaction. */
  chargeWebhook(reference: string): Promise<{ rawBody: string; signature: string }>
  /** Every Nigerian bank, page after page along `meta.next`; `meta.pages` says how many pages it took. */
  listBanks(): Promise<Answer>
  resolveAccount(accountNumber: string, bankCode: string): Promise<Answer>
  createRecipient(body: Json): Promise<Answer>
  transfer(body: Json): Promise<Answer>
  verifyTransfer(reference: string): Promise<Answer>
  listTransfers(query: ListQuery): Promise<Answer>
  balance(): Promise<Answer>
  /** Paystack pays a pending transfer (each its own way); the signed transfer.success webhook it sends. */
  settleTransfer(reference: string): Promise<Hook>
  /** The refunds made so far become `processed` (each its own way). */
  processRefunds(): Promise<void>
  close(): Promise<void>
}

type Hook = { rawBody: string; signature: string }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits for `found` to answer something, up to `ms`. */
async function eventually<T>(what: string, found: () => T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = found()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`waited ${ms} ms for ${what}`)
    await sleep(25)
  }
}

/** Paystack's HTTP API over fetch: the envelope unwrapped, as Paystack documents it. */
function overHttp(baseUrl: string, secretKey: string) {
  return async (method: 'GET' | 'POST', path: string, body?: Json, key = secretKey): Promise<Answer> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    const json = (await res.json()) as Json
    if (res.status < 400 && json.status === true)
      return { ok: true, data: json.data as Json, ...(json.meta ? { meta: json.meta as Json } : {}) }
    return { ok: false, httpStatus: res.status, body: json }
  }
}

/** A page of the real client's lists as an answer. */
async function pageViaClient(call: () => Promise<ListPage<unknown>>): Promise<Answer> {
  const answer = await viaClient(call)
  if (!answer.ok) return answer
  const page = answer.data as unknown as ListPage<Json>
  return { ok: true, data: page.data, meta: page.meta as Json }
}

/** The real client's calls as answers: a PaystackError carries the HTTP status and Paystack's message. */
async function viaClient(call: () => Promise<unknown>): Promise<Answer> {
  try {
    return { ok: true, data: (await call()) as Json }
  } catch (err) {
    if (!(err instanceof PaystackError)) throw err
    return {
      ok: false,
      httpStatus: err.httpStatus ?? 0,
      body: { status: false, message: err.message, ...(err.providerCode ? { code: err.providerCode } : {}) },
    }
  }
}

/** A refusal as the client would raise it, to ask the client's helpers what it means. */
const errorOf = (a: Answer): PaystackError | undefined =>
  a.ok
    ? undefined
    : new PaystackError(
        a.httpStatus >= 500 ? 'unavailable' : 'rejected',
        String(a.body.message),
        a.httpStatus,
        typeof a.body.code === 'string' ? a.body.code : undefined,
      )

function httpImpl(name: string, baseUrl: string, secretKey: string) {
  const http = overHttp(baseUrl, secretKey)
  return {
    name,
    secretKey,
    initialize: (body: Json, key?: string) => http('POST', '/transaction/initialize', body, key),
    verify: (reference: string, key?: string) =>
      http('GET', `/transaction/verify/${encodeURIComponent(reference)}`, undefined, key),
    refund: (body: Json) => http('POST', '/refund', body),
    listRefunds: (transactionId: number) => http('GET', `/refund?transaction=${transactionId}`),
    listTransactions: (query: ListQuery) => http('GET', `/transaction${listQueryString(query)}`),
    listRefundsBetween: (query: ListQuery) => http('GET', `/refund${listQueryString(query)}`),
    listBanks: async (): Promise<Answer> => {
      const data: Json[] = []
      let next: string | undefined
      let pages = 0
      do {
        const cursor = next ? `&next=${encodeURIComponent(next)}` : ''
        const page = await http('GET', `/bank?country=nigeria&use_cursor=true&perPage=5${cursor}`)
        if (!page.ok) return page
        pages++
        data.push(...(page.data as Json[]))
        next = typeof page.meta?.next === 'string' ? page.meta.next : undefined
      } while (next && pages < 100)
      return { ok: true, data, meta: { pages } }
    },
    resolveAccount: (accountNumber: string, bankCode: string) =>
      http('GET', `/bank/resolve?account_number=${encodeURIComponent(accountNumber)}&bank_code=${bankCode}`),
    createRecipient: (body: Json) => http('POST', '/transferrecipient', body),
    transfer: (body: Json) => http('POST', '/transfer', body),
    verifyTransfer: (reference: string) => http('GET', `/transfer/verify/${encodeURIComponent(reference)}`),
    listTransfers: (query: ListQuery) => http('GET', `/transfer${listQueryString(query)}`),
    balance: () => http('GET', '/balance'),
  }
}

/** The fake's own ways: it pays a transfer when told to, and refunds are processed by hand. */
function fakeControls(fake: FakePaystack) {
  return {
    settleTransfer: async (reference: string) => {
      const { payload, headers } = fake.settleTransfer(reference, 'success')
      return { rawBody: payload, signature: headers['x-paystack-signature']! }
    },
    processRefunds: async () => {
      for (const r of fake.refunds) if (r.status === 'pending') r.status = 'processed'
    },
  }
}

async function fakeImpl(): Promise<PaystackImpl> {
  const fake = await FakePaystack.start()
  return {
    ...httpImpl('the fake', fake.url, fake.secretKey),
    complete: async (init, outcome) => {
      if (outcome === 'success') fake.pay(init.reference)
      else if (outcome === 'failed') fake.decline(init.reference)
      else fake.abandon(init.reference)
    },
    outcomes: ['success', 'failed', 'abandoned'],
    chargeWebhook: async (reference) => {
      const { payload, headers } = fake.chargeSuccess(reference)
      return { rawBody: payload, signature: headers['x-paystack-signature']! }
    },
    ...fakeControls(fake),
    close: () => fake.close(),
  }
}

async function clientImpl(): Promise<PaystackImpl> {
  const fake = await FakePaystack.start()
  const client = (key = fake.secretKey) => createPaystackClient({ secretKey: key, baseUrl: fake.url, timeoutMs: 2000 })
  return {
    name: 'the client against the fake',
    secretKey: fake.secretKey,
    initialize: (body, key) => viaClient(() => client(key).initialize(body as never)),
    verify: (reference, key) => viaClient(() => client(key).verify(reference)),
    refund: (body) => viaClient(() => client().refund(body as never)),
    listRefunds: (transactionId) => viaClient(() => client().listRefunds(transactionId)),
    listTransactions: (query) => pageViaClient(() => client().listTransactions(query)),
    listRefundsBetween: (query) => pageViaClient(() => client().listRefundsBetween(query)),
    listBanks: async () => {
      // Five banks a page, so the client has to follow the cursor.
      fake.bankPageLimit = 5
      const before = fake.callsTo('/bank?').length
      const answer = await viaClient(() => client().listBanks())
      return answer.ok ? { ...answer, meta: { pages: fake.callsTo('/bank?').length - before } } : answer
    },
    resolveAccount: (accountNumber, bankCode) => viaClient(() => client().resolveAccount(accountNumber, bankCode)),
    createRecipient: (body) =>
      viaClient(() =>
        client().createRecipient({
          name: String(body.name),
          accountNumber: String(body.account_number),
          bankCode: String(body.bank_code),
          ...(typeof body.currency === 'string' ? { currency: body.currency } : {}),
        }),
      ),
    transfer: (body) =>
      viaClient(() =>
        client().transfer({
          amount: Number(body.amount),
          recipient: String(body.recipient),
          reference: String(body.reference),
          reason: String(body.reason ?? ''),
          ...(typeof body.currency === 'string' ? { currency: body.currency } : {}),
        }),
      ),
    verifyTransfer: (reference) => viaClient(() => client().verifyTransfer(reference)),
    listTransfers: (query) => pageViaClient(() => client().listTransfers(query)),
    balance: () => viaClient(() => client().balance()),
    ...fakeControls(fake),
    complete: async (init, outcome) => {
      if (outcome === 'success') fake.pay(init.reference)
      else if (outcome === 'failed') fake.decline(init.reference)
      else fake.abandon(init.reference)
    },
    outcomes: ['success', 'failed', 'abandoned'],
    chargeWebhook: async (reference) => {
      const { payload, headers } = fake.chargeSuccess(reference)
      return { rawBody: payload, signature: headers['x-paystack-signature']! }
    },
    close: () => fake.close(),
  }
}

async function simulatorImpl(): Promise<PaystackImpl> {
  const simulator = new PaystackSimulator()
  const delivered: { rawBody: string; signature: string }[] = []
  const server = Fastify()
  await server.register(simulatorRoutes, {
    prefix: '/paystack-sim',
    simulator,
    publicUrl: 'http://sim.test',
    deliverWebhook: async (rawBody, signature) => {
      delivered.push({ rawBody, signature })
    },
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/paystack-sim`
  return {
    ...httpImpl('the simulator', base, simulator.secretKey),
    complete: async (init, outcome) => {
      if (outcome === 'abandoned') return simulator.abandon(init.reference)
      const page = new URL(init.authorization_url).pathname
      const res = await fetch(`${base.replace('/paystack-sim', '')}${page}/${outcome === 'success' ? 'pay' : 'fail'}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
        redirect: 'manual',
      })
      if (res.status !== 303 && res.status !== 200) throw new Error(`simulator page answered ${res.status}`)
    },
    outcomes: ['success', 'failed', 'abandoned'],
    chargeWebhook: async (reference) => {
      const hook = delivered.find((d) => {
        const body = JSON.parse(d.rawBody) as { event: string; data: Json }
        return body.event === 'charge.success' && body.data.reference === reference
      })
      if (!hook) throw new Error(`the simulator sent no charge.success for ${reference}`)
      return hook
    },
    // The simulator pays a transfer on its own a moment later, and processes refunds half a second later.
    settleTransfer: (reference) =>
      eventually(`transfer.success for ${reference}`, () =>
        delivered.find((d) => {
          const body = JSON.parse(d.rawBody) as { event: string; data: Json }
          return body.event === 'transfer.success' && body.data.reference === reference
        }),
      ),
    processRefunds: async () => {
      await eventually('processed refunds', () =>
        simulator.allRefunds().every((r) => r.status === 'processed') ? true : undefined,
      )
    },
    close: async () => {
      simulator.stop()
      await server.close()
    },
  }
}

const dataOf = (t: Test, a: Answer, what: string): Json => {
  if (!a.ok) t.fail(`${what}: ${a.httpStatus} ${JSON.stringify(a.body)}`)
  return a.ok ? (a.data as Json) : {}
}
const refused = (t: Test, a: Answer, httpStatus: number, message: RegExp, what: string) => {
  t.equal(a.ok, false, `${what} is refused`)
  if (a.ok) return
  t.equal(a.httpStatus, httpStatus, `${what}: HTTP ${httpStatus}`)
  t.match(a.body, { status: false, message }, `${what}: {status:false, message}`)
}

/** The contract: the same assertions for every implementation. */
async function contract(t: Test, impl: PaystackImpl): Promise<void> {
  const ref = () => `oja-ct-${randomBytes(6).toString('hex')}=1.x`
  const start = async (amount = 150_000): Promise<Initialized> => {
    const reference = ref()
    const init = dataOf(
      t,
      await impl.initialize({
        email: 'buyer@oja.test',
        amount: String(amount),
        currency: 'NGN',
        reference,
        callback_url: 'https://oja.test/cb',
        metadata: { orderId: 'o1' },
      }),
      'initialize',
    )
    t.equal(init.reference, reference, 'initialize keeps our reference')
    t.match(init.access_code, /^\S+$/)
    t.match(init.authorization_url, /^https?:\/\/\S+$/)
    return { reference, access_code: String(init.access_code), authorization_url: String(init.authorization_url) }
  }

  // initialize
  const init = await start()
  refused(
    t,
    await impl.initialize({ email: 'buyer@oja.test', amount: '150000', reference: init.reference }),
    400,
    /duplicate/i,
    'a reused reference',
  )
  refused(t, await impl.initialize({ email: 'buyer@oja.test', amount: '0' }), 400, /amount/i, 'a zero amount')
  refused(
    t,
    await impl.initialize({ email: 'b@oja.test', amount: '100' }, 'sk_test_wrong'),
    401,
    /Invalid key/,
    'a wrong key',
  )

  // verify: amounts in kobo, our reference, the transaction's state
  const fresh = dataOf(t, await impl.verify(init.reference), 'verify')
  t.match(fresh, { reference: init.reference, amount: 150_000, currency: 'NGN', status: 'ongoing', paid_at: null })
  t.type(fresh.id, 'number', 'a numeric transaction id')
  refused(t, await impl.verify('oja-ct-unknown'), 400, /not found/i, 'an unknown reference')
  refused(t, await impl.verify(init.reference, 'sk_test_wrong'), 401, /Invalid key/, 'verify with a wrong key')
  refused(t, await impl.refund({ transaction: init.reference }), 400, /./, 'a refund of an unpaid transaction')

  for (const outcome of impl.outcomes) {
    const tx = outcome === 'success' ? init : await start(20_000)
    await impl.complete(tx, outcome)
    const v = dataOf(t, await impl.verify(tx.reference), `verify after ${outcome}`)
    t.equal(v.status, outcome, `verify reports ${outcome}`)
    if (outcome === 'success') {
      t.match(v, { amount: 150_000, gateway_response: 'Successful' })
      t.type(v.paid_at, 'string', 'paid_at is set')
    } else t.equal(v.paid_at, null, `no paid_at when ${outcome}`)
  }

  // webhooks: HMAC-SHA512 of the raw body with the secret key
  const hook = await impl.chargeWebhook(init.reference)
  t.equal(hook.signature, createHmac('sha512', impl.secretKey).update(hook.rawBody).digest('hex'))
  t.ok(isValidPaystackSignature(Buffer.from(hook.rawBody), hook.signature, impl.secretKey), 'Oja accepts it')
  t.notOk(isValidPaystackSignature(Buffer.from(hook.rawBody), hook.signature, 'sk_test_other'), 'another key does not')
  t.match(JSON.parse(hook.rawBody), {
    event: 'charge.success',
    data: { reference: init.reference, amount: 150_000, currency: 'NGN', status: 'success' },
  })

  // refunds: create (partial, then no more than is left) and list
  const paid = dataOf(t, await impl.verify(init.reference), 'verify paid')
  const refund = dataOf(
    t,
    await impl.refund({
      transaction: init.reference,
      amount: 50_000,
      merchant_note: 'oja-refund:1',
      customer_note: 'Sorry',
    }),
    'refund',
  )
  t.match(refund, { amount: 50_000, currency: 'NGN', status: 'pending', merchant_note: 'oja-refund:1' })
  t.type(refund.id, 'number')
  t.match(refund.transaction, { id: paid.id, reference: init.reference })
  refused(
    t,
    await impl.refund({ transaction: init.reference, amount: 100_001 }),
    400,
    /more than/i,
    'refunding more than is left',
  )
  refused(
    t,
    await impl.refund({ transaction: 'oja-ct-unknown', amount: 1 }),
    404,
    /not found/i,
    'a refund of an unknown transaction',
  )
  const byId = dataOf(
    t,
    await impl.refund({ transaction: String(paid.id), amount: 10_000 }),
    'refund by transaction id',
  )
  t.equal(byId.amount, 10_000)
  const listed = await impl.listRefunds(Number(paid.id))
  t.ok(listed.ok && Array.isArray(listed.data), 'refunds come as a list')
  if (listed.ok && Array.isArray(listed.data)) {
    t.same(
      listed.data.map((r) => [r.id, r.amount, r.merchant_note]),
      [
        [refund.id, 50_000, 'oja-refund:1'],
        [byId.id, 10_000, null],
      ],
    )
  }

  // reconciliation: the integration's transactions and refunds over a period, paged
  const from = new Date(Date.now() - 3_600_000).toISOString()
  const to = new Date(Date.now() + 60_000).toISOString()
  const listOf = (a: Answer, what: string): Json[] => {
    if (!a.ok || !Array.isArray(a.data)) {
      t.fail(`${what}: ${JSON.stringify(a)}`)
      return []
    }
    return a.data
  }
  const successes = listOf(await impl.listTransactions({ from, to, status: 'success' }), 'successful transactions')
  t.same(
    successes.map((tx) => [tx.reference, tx.status, tx.amount, tx.id]),
    [[init.reference, 'success', 150_000, paid.id]],
    'status=success lists the paid transaction only',
  )
  const all = await impl.listTransactions({ from, to, perPage: 2, page: 1 })
  t.equal(listOf(all, 'page 1').length, 2, 'perPage')
  t.match(all.ok && all.meta, { total: 3, page: 1, perPage: 2, pageCount: 2 }, 'meta says where the page is')
  const second = listOf(await impl.listTransactions({ from, to, perPage: 2, page: 2 }), 'page 2')
  t.equal(second.length, 1, 'the last page')
  t.equal(
    new Set([...listOf(all, 'page 1'), ...second].map((tx) => tx.reference)).size,
    3,
    'the pages hold every transaction once',
  )
  const before = {
    from: new Date(Date.now() - 7_200_000).toISOString(),
    to: new Date(Date.now() - 3_600_000).toISOString(),
  }
  t.same(listOf(await impl.listTransactions(before), 'an earlier period'), [], 'from/to bound the list')
  const refundsListed = listOf(await impl.listRefundsBetween({ from, to }), 'refunds over a period')
  t.same(
    refundsListed.map((r) => [r.id, r.amount, r.status]).sort((a, b) => Number(a[0]) - Number(b[0])),
    [
      [refund.id, 50_000, 'pending'],
      [byId.id, 10_000, 'pending'],
    ].sort((a, b) => Number(a[0]) - Number(b[0])),
  )
  for (const r of refundsListed) t.match(r.transaction, { id: paid.id, reference: init.reference })
  const refundPage = await impl.listRefundsBetween({ from, to, perPage: 1, page: 2 })
  t.equal(listOf(refundPage, 'a page of refunds').length, 1)
  t.match(refundPage.ok && refundPage.meta, { total: 2, page: 2, pageCount: 2 })
  t.same(listOf(await impl.listRefundsBetween(before), 'refunds of an earlier period'), [])
}

/** The transfers contract: banks, accounts, recipients, transfers and the balance they draw on. */
async function transfersContract(t: Test, impl: PaystackImpl): Promise<void> {
  const reference = () => `oja-payout-${randomBytes(8).toString('hex')}`
  const balanceOf = async (): Promise<number> => {
    const a = await impl.balance()
    const list = a.ok && Array.isArray(a.data) ? a.data : []
    t.ok(a.ok && Array.isArray(a.data), 'the balance comes as a list of currencies')
    const ngn = list.find((b) => b.currency === 'NGN')
    t.type(ngn?.balance, 'number', 'an NGN balance in kobo')
    return Number(ngn?.balance)
  }

  // banks: every Nigerian bank, page after page
  const banks = await impl.listBanks()
  t.ok(banks.ok && Array.isArray(banks.data), 'banks come as a list')
  const bankList = banks.ok && Array.isArray(banks.data) ? banks.data : []
  t.ok(Number(banks.ok && banks.meta?.pages) > 1, 'the list is followed along its cursor, page after page')
  t.equal(new Set(bankList.map((b) => b.code)).size, bankList.length, 'each bank once')
  t.ok(bankList.length >= 10, 'at least ten banks')
  for (const [code, name] of [
    ['044', /Access/],
    ['058', /Guaranty Trust/],
    ['057', /Zenith/],
    ['011', /First Bank/],
    ['033', /United Bank/],
    ['50211', /Kuda/],
    ['999992', /OPay/],
    ['50515', /Moniepoint/],
    ['035', /Wema/],
    ['232', /Sterling/],
    ['001', /Test Bank/],
  ] as const)
    t.match(
      bankList.find((b) => b.code === code),
      { name, code, slug: /^[a-z0-9-]+$/, currency: 'NGN', type: 'nuban', active: true, id: Number },
      `bank ${code}`,
    )

  // accounts: any ten digits at a known bank resolve, the same name every time; not 000…
  const account = dataOf(t, await impl.resolveAccount('0123456789', '058'), 'resolve')
  t.match(account, { account_number: '0123456789', account_name: /^[A-Z][A-Z ]+$/, bank_id: Number })
  t.equal(
    dataOf(t, await impl.resolveAccount('0123456789', '058'), 'resolve again').account_name,
    account.account_name,
    'the same name every time',
  )
  const unresolved = /Could not resolve account name/
  refused(t, await impl.resolveAccount('0001234567', '058'), 422, unresolved, 'an account that does not resolve')
  refused(t, await impl.resolveAccount('0123456789', '999'), 422, unresolved, 'an unknown bank code')
  refused(t, await impl.resolveAccount('012345678', '058'), 422, unresolved, 'nine digits')

  // recipients: one per account
  const recipientBody = {
    type: 'nuban',
    name: 'Ada Seller',
    account_number: '0123456789',
    bank_code: '058',
    currency: 'NGN',
  }
  const recipient = dataOf(t, await impl.createRecipient(recipientBody), 'create a recipient')
  t.match(recipient, {
    recipient_code: /^RCP_\w+$/,
    active: true,
    type: 'nuban',
    currency: 'NGN',
    name: 'Ada Seller',
    id: Number,
    details: {
      account_number: '0123456789',
      account_name: account.account_name,
      bank_code: '058',
      bank_name: 'Guaranty Trust Bank',
    },
  })
  const again = dataOf(t, await impl.createRecipient(recipientBody), 'the same account again')
  t.equal(again.recipient_code, recipient.recipient_code, 'the same account gives the same recipient')
  t.equal(again.id, recipient.id)
  const other = dataOf(
    t,
    await impl.createRecipient({ ...recipientBody, account_number: '2234567890', bank_code: '044' }),
    'another account',
  )
  t.not(other.recipient_code, recipient.recipient_code, 'another account, another recipient')
  const notAnAccount = await impl.createRecipient({ ...recipientBody, account_number: '0009999999' })
  t.equal(notAnAccount.ok, false, 'an account that does not resolve makes no recipient')
  t.match(!notAnAccount.ok && notAnAccount, { httpStatus: 400, body: { status: false, message: /./ } })

  // a charge adds its amount less the fees verify reports
  const opening = await balanceOf()
  const chargeRef = `oja-ct-${randomBytes(6).toString('hex')}`
  const init = dataOf(
    t,
    await impl.initialize({ email: 'buyer@oja.test', amount: 200_000, currency: 'NGN', reference: chargeRef }),
    'initialize',
  )
  t.equal(await balanceOf(), opening, 'an unpaid charge adds nothing')
  await impl.complete(
    { reference: chargeRef, access_code: String(init.access_code), authorization_url: String(init.authorization_url) },
    'success',
  )
  const paid = dataOf(t, await impl.verify(chargeRef), 'verify the charge')
  t.type(paid.fees, 'number', 'verify reports the fees')
  const afterCharge = await balanceOf()
  t.equal(afterCharge, opening + 200_000 - Number(paid.fees), 'a paid charge adds its amount less its fees')

  // a refund takes its amount once processed
  dataOf(t, await impl.refund({ transaction: chargeRef, amount: 50_000 }), 'refund')
  await impl.processRefunds()
  const afterRefund = await balanceOf()
  t.equal(afterRefund, afterCharge - 50_000, 'a processed refund takes its amount')

  // a transfer: pending, the amount leaves the balance at once; then success
  const ref1 = reference()
  const body = {
    source: 'balance',
    amount: 30_000,
    recipient: recipient.recipient_code,
    reference: ref1,
    reason: 'Payout',
  }
  const created = dataOf(t, await impl.transfer(body), 'transfer')
  t.match(created, {
    reference: ref1,
    transfer_code: /^TRF_\w+$/,
    status: 'pending',
    amount: 30_000,
    currency: 'NGN',
    reason: 'Payout',
  })
  t.ok(
    created.recipient === recipient.id || created.recipient === recipient.recipient_code,
    'the transfer names its recipient',
  )
  t.equal(await balanceOf(), afterRefund - 30_000, 'a pending transfer has taken its amount')
  const pending = dataOf(t, await impl.verifyTransfer(ref1), 'verify the transfer')
  t.match(pending, {
    reference: ref1,
    transfer_code: created.transfer_code,
    amount: 30_000,
    currency: 'NGN',
    reason: 'Payout',
    recipient: { recipient_code: recipient.recipient_code, details: { account_number: '0123456789' } },
    createdAt: String,
    updatedAt: String,
  })
  t.ok(['pending', 'success'].includes(String(pending.status)), 'pending until Paystack pays it')

  const hook = await impl.settleTransfer(ref1)
  t.equal(hook.signature, createHmac('sha512', impl.secretKey).update(hook.rawBody).digest('hex'))
  t.ok(isValidPaystackSignature(Buffer.from(hook.rawBody), hook.signature, impl.secretKey), 'Oja accepts it')
  t.notOk(isValidPaystackSignature(Buffer.from(hook.rawBody), hook.signature, 'sk_test_other'), 'another key does not')
  t.match(JSON.parse(hook.rawBody), {
    event: 'transfer.success',
    data: {
      reference: ref1,
      amount: 30_000,
      currency: 'NGN',
      status: 'success',
      transfer_code: created.transfer_code,
      reason: 'Payout',
      recipient: { recipient_code: recipient.recipient_code },
    },
  })
  t.match(dataOf(t, await impl.verifyTransfer(ref1), 'verify a paid transfer'), { status: 'success', amount: 30_000 })
  const afterTransfer = await balanceOf()
  t.equal(afterTransfer, afterRefund - 30_000, 'paying it moves nothing more')

  // the same reference again is refused, and nothing is paid twice
  const twice = await impl.transfer(body)
  refused(t, twice, 400, /reference/i, 'the same reference again')
  t.ok(isDuplicateTransferReference(errorOf(twice)), 'recognised as a duplicate reference')
  t.notOk(isInsufficientBalance(errorOf(twice)))
  t.equal(await balanceOf(), afterTransfer, 'the balance moved once')

  // more than the balance is refused, recognisably, and makes no transfer
  const tooMuchRef = reference()
  const tooMuch = await impl.transfer({ ...body, reference: tooMuchRef, amount: afterTransfer + 1 })
  refused(t, tooMuch, 400, /balance is not enough/, 'more than the balance')
  t.match(!tooMuch.ok && tooMuch.body, { code: 'insufficient_balance' })
  t.ok(isInsufficientBalance(errorOf(tooMuch)), 'recognised as a balance too small')
  t.notOk(isDuplicateTransferReference(errorOf(tooMuch)))
  refused(t, await impl.verifyTransfer(tooMuchRef), 404, /not found/i, 'the refused transfer')
  t.equal(await balanceOf(), afterTransfer)

  // references are ours, in Paystack's alphabet
  for (const [bad, why] of [
    ['short-ref', 'fewer than 16 characters'],
    ['Oja-Payout-Upper-Case-1', 'upper case'],
    ['oja-payout with spaces 1', 'spaces'],
    ['oja.payout.with.dots.123', 'dots'],
    [`oja-${'x'.repeat(47)}`, 'more than 50 characters'],
  ])
    refused(t, await impl.transfer({ ...body, reference: bad }), 400, /reference/i, `a reference with ${why}`)
  const longest = `oja-${'x'.repeat(46)}`
  t.equal(longest.length, 50)
  t.match(dataOf(t, await impl.transfer({ ...body, reference: longest, amount: 100 }), 'fifty characters'), {
    reference: longest,
  })
  t.equal(await balanceOf(), afterTransfer - 100)

  // unknown things
  refused(t, await impl.verifyTransfer('oja-payout-unknown-0001'), 404, /not found/i, 'an unknown transfer')
  const noOne = await impl.transfer({ ...body, reference: reference(), recipient: 'RCP_nobody000000' })
  t.equal(noOne.ok, false, 'an unknown recipient is refused')
  t.ok(!noOne.ok && [400, 404].includes(noOne.httpStatus), 'with 400 or 404')
  t.match(!noOne.ok && noOne.body, { status: false, message: /recipient/i })
  t.equal(await balanceOf(), afterTransfer - 100, 'refusals move nothing')

  // reconciliation: the integration's transfers over a period, paged
  const ref3 = reference()
  dataOf(t, await impl.transfer({ ...body, reference: ref3, amount: 2_500 }), 'a third transfer')
  const from = new Date(Date.now() - 3_600_000).toISOString()
  const to = new Date(Date.now() + 60_000).toISOString()
  const listed = await impl.listTransfers({ from, to })
  const rows = listed.ok && Array.isArray(listed.data) ? listed.data : []
  t.same(rows.map((r) => r.reference).sort(), [ref1, longest, ref3].sort(), 'every transfer once, no refused one')
  t.match(
    rows.find((r) => r.reference === ref1),
    { amount: 30_000, currency: 'NGN', status: 'success', transfer_code: created.transfer_code },
  )
  for (const r of rows) t.match(r.recipient, { recipient_code: recipient.recipient_code })
  const page2 = await impl.listTransfers({ from, to, perPage: 2, page: 2 })
  t.equal(page2.ok && Array.isArray(page2.data) ? page2.data.length : -1, 1, 'the last page')
  t.match(page2.ok && page2.meta, { total: 3, page: 2, perPage: 2, pageCount: 2 })
  const earlier = await impl.listTransfers({
    from: new Date(Date.now() - 7_200_000).toISOString(),
    to: new Date(Date.now() - 3_600_000).toISOString(),
  })
  t.same(earlier.ok && earlier.data, [], 'from/to bound the list')
  t.equal(await balanceOf(), afterTransfer - 100 - 2_500, 'each transfer took its amount once')
}

for (const [name, make] of [
  ['the real client against the fake', clientImpl],
  ['the built-in simulator', simulatorImpl],
  ['the fake', fakeImpl],
] as const) {
  void t.test(`the Paystack contract: ${name}`, async (t) => {
    const impl = await make()
    t.teardown(() => impl.close())
    await contract(t, impl)
  })
  void t.test(`the Paystack transfers contract: ${name}`, async (t) => {
    const impl = await make()
    t.teardown(() => impl.close())
    await transfersContract(t, impl)
  })
}
