/**
 * One Paystack contract, run against every Paystack Oja knows: the real client
 * (src/payments/paystack.client.ts) talking to the test fake over loopback HTTP, the built-in
 * simulator (src/payments/paystack-simulator.ts) served over loopback, and the fake itself.
 * Where one of them differs from Paystack's documented behaviour, the fake or the simulator is
 * fixed, not this test.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test as TapTest } from 'tap'
import { PaystackSimulator, simulatorRoutes } from '../src/payments/paystack-simulator.js'
import {
  createPaystackClient,
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
  close(): Promise<void>
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
    return { ok: false, httpStatus: err.httpStatus ?? 0, body: { status: false, message: err.message } }
  }
}

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
}
