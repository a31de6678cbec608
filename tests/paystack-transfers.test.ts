/**
 * Transfers beyond the shared contract (tests/paystack-contract.test.ts): the fake's test
 * controls (registered accounts, the balance, outcomes, misbehaving modes, the call log) as
 * the real client sees them, and the simulator's own outcome of a transfer.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import { PaystackSimulator, simulatorRoutes } from '../src/payments/paystack-simulator.js'
import {
  createPaystackClient,
  isDuplicateTransferReference,
  isInsufficientBalance,
  PaystackError,
  type PaymentGateway,
} from '../src/payments/paystack.client.js'
import { isValidPaystackSignature } from '../src/payments/webhook-signature.js'
import { FakePaystack } from './fakes/paystack.js'

const reference = () => `oja-payout-${randomBytes(8).toString('hex')}`
const failure = (p: Promise<unknown>): Promise<PaystackError> =>
  p.then(
    () => {
      throw new Error('expected a PaystackError')
    },
    (err: unknown) => {
      if (!(err instanceof PaystackError)) throw err
      return err
    },
  )
const ngn = async (client: PaymentGateway) => (await client.balance()).find((b) => b.currency === 'NGN')!.balance

async function fakeWithRecipient(t: Test, opts: { balance?: number } = {}) {
  const fake = await FakePaystack.start(undefined, opts)
  t.teardown(() => fake.close())
  const client = createPaystackClient({ secretKey: fake.secretKey, baseUrl: fake.url, timeoutMs: 300 })
  const recipient = await client.createRecipient({ name: 'Ada Seller', accountNumber: '0123456789', bankCode: '058' })
  return { fake, client, recipient: recipient.recipient_code }
}

void t.test('the fake: registered account names win over made-up ones', async (t) => {
  const { fake, client } = await fakeWithRecipient(t)
  fake.accounts.set('044:0001112223', 'NGOZI OKONJO')
  t.match(await client.resolveAccount('0001112223', '044'), {
    account_number: '0001112223',
    account_name: 'NGOZI OKONJO',
    bank_id: Number,
  })
  const notThere = await failure(client.resolveAccount('0001112223', '058'))
  t.match(notThere, { kind: 'rejected', httpStatus: 422 }, 'only at the bank it was registered at')
  fake.accounts.set('058:1234567890', 'TUNDE BAKARE')
  const recipient = await client.createRecipient({ name: 'Tunde', accountNumber: '1234567890', bankCode: '058' })
  t.match(recipient.details, { account_name: 'TUNDE BAKARE', bank_name: 'Guaranty Trust Bank' })
  t.equal(fake.recipients.get(recipient.recipient_code)?.account_name, 'TUNDE BAKARE', 'inspectable')
})

void t.test('the fake: the balance, set by a test, refuses what it cannot pay', async (t) => {
  const { fake, client, recipient } = await fakeWithRecipient(t, { balance: 80_000 })
  t.equal(fake.balance, 80_000, 'the opening balance')
  t.equal(await ngn(client), 80_000, 'GET /balance says the same')
  fake.balance = 0
  const err = await failure(client.transfer({ amount: 1, recipient, reference: reference(), reason: 'Payout' }))
  t.match(err, { kind: 'rejected', httpStatus: 400, providerCode: 'insufficient_balance' })
  t.ok(isInsufficientBalance(err))
  t.equal(fake.transfers.size, 0, 'no transfer made')
  fake.setBalance(50_000)
  const ref = reference()
  t.match(await client.transfer({ amount: 50_000, recipient, reference: ref, reason: 'Payout' }), {
    status: 'pending',
    amount: 50_000,
  })
  t.equal(fake.balance, 0, 'a pending transfer holds its amount')
  t.match(fake.transfers.get(ref), { amount: 50_000, status: 'pending', recipient_code: recipient })
})

void t.test('the fake: a test decides outcomes and gets the signed webhook', async (t) => {
  const { fake, client, recipient } = await fakeWithRecipient(t, { balance: 100_000 })
  const failed = reference()
  const reversed = reference()
  await client.transfer({ amount: 30_000, recipient, reference: failed, reason: 'Payout 1' })
  await client.transfer({ amount: 20_000, recipient, reference: reversed, reason: 'Payout 2' })
  t.equal(fake.balance, 50_000)
  t.throws(() => fake.transferWebhook(failed), /no webhook/, 'Paystack sends none for a pending transfer')
  t.throws(() => fake.settleTransfer('oja-payout-unknown-0000', 'success'), /no transfer/)

  const hook = fake.settleTransfer(failed, 'failed')
  t.ok(isValidPaystackSignature(Buffer.from(hook.payload), hook.headers['x-paystack-signature'], fake.secretKey))
  t.match(JSON.parse(hook.payload), {
    event: 'transfer.failed',
    data: { reference: failed, status: 'failed', amount: 30_000, recipient: { recipient_code: recipient } },
  })
  t.equal(fake.balance, 80_000, 'a failed transfer gives its amount back')
  t.equal((await client.verifyTransfer(failed)).status, 'failed')

  fake.settleTransfer(reversed, 'success')
  t.equal(fake.balance, 80_000, 'a paid transfer moves nothing more')
  t.type(fake.transfers.get(reversed)?.transferred_at, 'string')
  t.match(JSON.parse(fake.settleTransfer(reversed, 'reversed').payload), {
    event: 'transfer.reversed',
    data: { reference: reversed, status: 'reversed' },
  })
  t.equal(fake.balance, 100_000, 'a reversed transfer gives its amount back')
  t.equal(JSON.parse(fake.transferWebhook(reversed).payload).event, 'transfer.reversed', 'the same webhook again')
})

void t.test('the fake: an answer lost after the transfer was made', async (t) => {
  const { fake, client, recipient } = await fakeWithRecipient(t, { balance: 100_000 })
  const ref = reference()
  fake.modes.transfer = 'lostAnswer'
  const lost = await failure(client.transfer({ amount: 40_000, recipient, reference: ref, reason: 'Payout' }))
  t.match(lost, { kind: 'unavailable', message: /within 300 ms/ }, 'the outcome is unknown to the caller')
  t.match(fake.transfers.get(ref), { status: 'pending', amount: 40_000 }, 'but Paystack made it')
  t.equal(fake.transferCalls(ref).length, 1, 'POSTed once')
  t.equal((await client.verifyTransfer(ref)).status, 'pending', 'verify finds it')

  fake.modes.transfer = 'ok'
  const retry = await failure(client.transfer({ amount: 40_000, recipient, reference: ref, reason: 'Payout' }))
  t.ok(isDuplicateTransferReference(retry), 'a retry with the same reference is refused as a duplicate')
  t.notOk(isInsufficientBalance(retry))
  t.equal(fake.transferCalls(ref).length, 2, 'two POSTs')
  t.equal(fake.transfers.size, 1, 'one transfer')
  t.equal(fake.balance, 60_000, 'paid once')
  t.equal(fake.transferCalls().length, 2, 'all POST /transfer calls')
})

void t.test('the fake: transfers that fail before anything happens', async (t) => {
  const { fake, client, recipient } = await fakeWithRecipient(t, { balance: 100_000 })
  const send = (ref = reference()) => client.transfer({ amount: 10_000, recipient, reference: ref, reason: 'Payout' })

  fake.modes.transfer = 'hang'
  t.match(await failure(send()), { kind: 'unavailable', message: /within 300 ms/ })
  fake.modes.transfer = 'error500'
  t.match(await failure(send()), { kind: 'unavailable', httpStatus: 500 })
  fake.modes.transfer = 'statusFalse'
  t.match(await failure(send()), { kind: 'rejected' })
  fake.modes.transfer = 'insufficientBalance'
  const poor = await failure(send())
  t.ok(isInsufficientBalance(poor), 'refused for want of balance, whatever the balance')
  fake.modes.transfer = 'duplicateReference'
  t.ok(isDuplicateTransferReference(await failure(send())), 'refused as a duplicate')
  t.equal(fake.transfers.size, 0, 'none of them made a transfer')
  t.equal(fake.transferCalls().length, 5, 'every call is in the log')
  t.equal(fake.balance, 100_000)

  fake.modes.transfer = 'otp'
  const ref = reference()
  t.match(await send(ref), { status: 'otp', reference: ref })
  t.equal(fake.balance, 100_000, 'a transfer waiting for its OTP has not taken the money')

  fake.modes.transfer = 'ok'
  fake.modes.verifyTransfer = 'error500'
  t.match(await failure(client.verifyTransfer(ref)), { kind: 'unavailable' })
  fake.modes.listTransfers = 'hang'
  t.match(await failure(client.listTransfers({})), { kind: 'unavailable' })
  fake.modes.balance = 'statusFalse'
  t.match(await failure(client.balance()), { kind: 'rejected' })
  fake.modes.listBanks = 'error500'
  t.match(await failure(client.listBanks()), { kind: 'unavailable' })
  fake.modes.resolve = 'hang'
  t.match(await failure(client.resolveAccount('0123456789', '058')), { kind: 'unavailable' })
  fake.modes.createRecipient = 'error500'
  t.match(await failure(client.createRecipient({ name: 'A', accountNumber: '0123456789', bankCode: '058' })), {
    kind: 'unavailable',
  })
})

void t.test('the simulator: a transfer succeeds by itself, unless it was settled before', async (t) => {
  const simulator = new PaystackSimulator({ balance: 100_000, transferDelayMs: 100 })
  const delivered: { event: string; data: { reference: string; status: string } }[] = []
  const server = Fastify()
  await server.register(simulatorRoutes, {
    prefix: '/paystack-sim',
    simulator,
    publicUrl: 'http://sim.test',
    deliverWebhook: async (rawBody, signature) => {
      t.ok(isValidPaystackSignature(Buffer.from(rawBody), signature, simulator.secretKey), 'signed')
      delivered.push(JSON.parse(rawBody) as (typeof delivered)[number])
    },
  })
  await server.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    simulator.stop()
    await server.close()
  })
  const client = createPaystackClient({
    secretKey: simulator.secretKey,
    baseUrl: `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/paystack-sim`,
    timeoutMs: 2000,
  })
  t.equal(new PaystackSimulator().transferDelayMs, 1500, 'by default a transfer takes 1.5 s')
  const { recipient_code: recipient } = await client.createRecipient({
    name: 'Ada Seller',
    accountNumber: '0123456789',
    bankCode: '058',
  })
  const poor = await failure(client.transfer({ amount: 100_001, recipient, reference: reference(), reason: 'x' }))
  t.ok(isInsufficientBalance(poor), 'the opening balance bounds transfers')

  const paid = reference()
  const kept = reference()
  await client.transfer({ amount: 30_000, recipient, reference: paid, reason: 'Payout' })
  await client.transfer({ amount: 20_000, recipient, reference: kept, reason: 'Payout' })
  t.equal(await ngn(client), 50_000)
  t.equal(simulator.settleTransfer(kept, 'failed')?.status, 'failed', 'settled by hand before its time')
  t.equal(await ngn(client), 70_000, 'a failed transfer gives its amount back')
  await new Promise((r) => setTimeout(r, 400))
  t.equal((await client.verifyTransfer(paid)).status, 'success')
  t.equal((await client.verifyTransfer(kept)).status, 'failed', 'the timer does not overrule it')
  t.same(
    delivered.map((d) => [d.event, d.data.reference, d.data.status]),
    [['transfer.success', paid, 'success']],
    'one webhook, for the transfer it paid',
  )
  t.equal(await ngn(client), 70_000)
})
