import t from 'tap'
import { FakePaystack } from './fakes/paystack.js'
import { amountOf, createPaystackClient, PaystackError } from '../src/payments/paystack.client.js'
import {
  isAllowedWebhookSource,
  isValidPaystackSignature,
  signPaystackBody,
} from '../src/payments/webhook-signature.js'

void t.test('the Paystack client: documented calls, timeouts, both kinds of "no"', async (t) => {
  const fake = await FakePaystack.start()
  t.teardown(() => fake.close())
  const client = createPaystackClient({ secretKey: fake.secretKey, baseUrl: `${fake.url}/`, timeoutMs: 300 })

  const init = await client.initialize({
    email: 'a@b.co',
    amount: '150000',
    currency: 'NGN',
    reference: 'oja-ref=1.x',
    callback_url: 'https://x.test/cb',
    metadata: { orderId: 'o1' },
  })
  t.match(init, { reference: 'oja-ref=1.x', access_code: /\w+/, authorization_url: /^https:/ })
  t.equal(fake.calls[0]!.authorization, `Bearer ${fake.secretKey}`)
  const tx = await client.verify('oja-ref=1.x')
  t.equal(tx.status, 'ongoing')
  t.equal(fake.calls[1]!.path, '/transaction/verify/oja-ref%3D1.x', 'the reference is URL-encoded')
  fake.pay('oja-ref=1.x')
  t.equal((await client.verify('oja-ref=1.x')).status, 'success')
  const refund = await client.refund({ transaction: 'oja-ref=1.x', amount: 50_000, merchant_note: 'oja-refund:1' })
  t.match(refund, { amount: 50_000, status: 'pending', merchant_note: 'oja-refund:1' })
  t.same(
    (await client.listRefunds(tx.id)).map((r) => r.id),
    [refund.id],
  )

  const fails = async (fn: () => Promise<unknown>, kind: PaystackError['kind'], message: RegExp) => {
    const err = await fn().then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(err instanceof PaystackError, 'a PaystackError')
    t.equal((err as PaystackError).kind, kind)
    t.match((err as PaystackError).message, message)
  }
  await fails(() => client.verify('nope'), 'rejected', /not found/)
  await fails(() => client.refund({ transaction: 'oja-ref=1.x', amount: 1_000_000 }), 'rejected', /more than/)
  await fails(
    () => createPaystackClient({ secretKey: 'sk_test_wrong', baseUrl: fake.url, timeoutMs: 300 }).verify('oja-ref=1.x'),
    'rejected',
    /Invalid key/,
  )
  fake.modes.verify = 'statusFalse'
  await fails(() => client.verify('oja-ref=1.x'), 'rejected', /went wrong/)
  fake.modes.verify = 'error500'
  await fails(() => client.verify('oja-ref=1.x'), 'unavailable', /error/)
  fake.modes.verify = 'hang'
  await fails(() => client.verify('oja-ref=1.x'), 'unavailable', /within 300 ms/)
  fake.modes.initialize = 'duplicateReference'
  const dup = await client.initialize({ email: 'a@b.co', amount: '1', reference: 'r2' }).catch((e: PaystackError) => e)
  t.match(dup, { kind: 'rejected', providerCode: 'duplicate_reference', httpStatus: 400 })

  const closed = await FakePaystack.start()
  const url = closed.url
  await closed.close()
  await fails(
    () => createPaystackClient({ secretKey: 'k', baseUrl: url, timeoutMs: 300 }).verify('x'),
    'unavailable',
    /unreachable/,
  )
})

void t.test('amounts arrive as numbers or strings', async (t) => {
  t.equal(amountOf(150000), 150000)
  t.equal(amountOf('150000'), 150000)
  t.equal(amountOf(' 42 '), 42)
  t.equal(amountOf('1.5'), undefined)
  t.equal(amountOf('12abc'), undefined)
  t.equal(amountOf(null), undefined)
  t.equal(amountOf(1.5), undefined)
})

void t.test('webhook signatures and source addresses', async (t) => {
  const body = Buffer.from('{"event":"charge.success","data":{"id":1}}')
  const good = signPaystackBody(body, 'sk_test_x')
  t.ok(isValidPaystackSignature(body, good, 'sk_test_x'))
  t.ok(isValidPaystackSignature(body, good.toUpperCase(), 'sk_test_x'), 'hex case does not matter')
  t.notOk(isValidPaystackSignature(body, good, 'sk_test_y'), 'another key')
  t.notOk(isValidPaystackSignature(Buffer.from(`${body} `), good, 'sk_test_x'), 'another body')
  t.notOk(isValidPaystackSignature(body, good.slice(2), 'sk_test_x'), 'short')
  t.notOk(isValidPaystackSignature(body, undefined, 'sk_test_x'))
  t.notOk(isValidPaystackSignature(undefined, good, 'sk_test_x'))
  t.notOk(isValidPaystackSignature(body, [good] as unknown as string, 'sk_test_x'), 'a repeated header')
  t.ok(isAllowedWebhookSource('1.2.3.4', undefined))
  t.ok(isAllowedWebhookSource('1.2.3.4', ''))
  t.ok(isAllowedWebhookSource('::ffff:52.31.139.75', '52.31.139.75,52.49.173.169'))
  t.notOk(isAllowedWebhookSource('127.0.0.1', '52.31.139.75'))
})
