import { randomBytes } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { Type } from '@sinclair/typebox'
import { amountOf, TRANSFER_REFERENCE } from './paystack.client.js'
import { cardFeeOf, madeUpAccountName, PAYSTACK_BANKS, type PaystackBankData } from './paystack-data.js'
import { signPaystackBody } from './webhook-signature.js'

/*
 * The built-in Paystack simulator, mounted at /paystack-sim when PAYSTACK_SECRET_KEY is
 * unset, so `npm start` shows a whole purchase without the internet: the same API paths
 * and payloads as Paystack, a hosted page with "Pay" and "Fail" buttons, and signed
 * webhooks. State lives in memory (a development tool for one node). Refused in production.
 *
 * Payouts too: Nigerian banks, account resolution (any 10 digits at a listed bank resolve to
 * a made-up name, except numbers starting with `000`), recipients, transfers from a balance
 * (₦10,000,000 to start, plus charges less fees, less processed refunds and transfers) and a
 * signed `transfer.success` webhook a moment after each transfer.
 */

type SimTransaction = {
  id: number
  reference: string
  amount: number
  currency: string
  email: string
  callbackUrl: string | null
  metadata: unknown
  accessCode: string
  status: 'ongoing' | 'success' | 'failed' | 'abandoned'
  createdAt: string
  paidAt: string | null
  refunded: number
}

type SimRefund = {
  id: number
  transaction: SimTransaction
  amount: number
  currency: string
  merchantNote: string | null
  customerNote: string | null
  status: 'pending' | 'processed'
  createdAt: string
}

type SimBank = PaystackBankData

type SimRecipient = {
  id: number
  recipientCode: string
  name: string
  currency: string
  accountNumber: string
  accountName: string
  bank: SimBank
  createdAt: string
}

type SimTransfer = {
  id: number
  reference: string
  transferCode: string
  amount: number
  currency: string
  reason: string
  recipient: SimRecipient
  status: 'pending' | 'success' | 'failed' | 'reversed'
  createdAt: string
  updatedAt: string
  transferredAt: string | null
}

export type SimulatorSettings = {
  /** The opening NGN balance in kobo (default ₦10,000,000, so a demo payout works at once). */
  balance?: number
  /** How long a transfer stays `pending` before it succeeds (default 1.5 s). */
  transferDelayMs?: number
}

export class PaystackSimulator {
  readonly secretKey = `sk_test_simulator_${randomBytes(16).toString('hex')}`
  private readonly byReference = new Map<string, SimTransaction>()
  private readonly byAccessCode = new Map<string, SimTransaction>()
  private readonly refunds: SimRefund[] = []
  private readonly recipients = new Map<string, SimRecipient>()
  private readonly transfers = new Map<string, SimTransfer>()
  private nextId = 4_000_000_000
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly openingBalance: number
  readonly transferDelayMs: number

  constructor(settings: SimulatorSettings = {}) {
    this.openingBalance = settings.balance ?? 1_000_000_000
    this.transferDelayMs = settings.transferDelayMs ?? 1500
  }

  /** Runs `fn` later, as Paystack reports some outcomes later; cancelled by stop(). */
  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, ms)
    timer.unref()
    this.timers.add(timer)
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  initialize(input: {
    email: string
    amount: number
    currency: string
    reference: string
    callbackUrl: string | null
    metadata: unknown
  }): SimTransaction | 'duplicate' {
    if (this.byReference.has(input.reference)) return 'duplicate'
    const tx: SimTransaction = {
      id: this.nextId++,
      ...input,
      accessCode: randomBytes(8).toString('hex'),
      status: 'ongoing',
      createdAt: new Date().toISOString(),
      paidAt: null,
      refunded: 0,
    }
    this.byReference.set(tx.reference, tx)
    this.byAccessCode.set(tx.accessCode, tx)
    return tx
  }

  find(reference: string): SimTransaction | undefined {
    return this.byReference.get(reference)
  }

  byCode(code: string): SimTransaction | undefined {
    return this.byAccessCode.get(code)
  }

  byIdOrReference(key: string): SimTransaction | undefined {
    return this.byReference.get(key) ?? [...this.byReference.values()].find((t) => String(t.id) === key)
  }

  refund(tx: SimTransaction, amount: number, notes: { merchant: string | null; customer: string | null }): SimRefund {
    tx.refunded += amount
    const r: SimRefund = {
      id: this.nextId++,
      transaction: tx,
      amount,
      currency: tx.currency,
      merchantNote: notes.merchant,
      customerNote: notes.customer,
      status: 'pending',
      createdAt: new Date().toISOString(),
    }
    this.refunds.push(r)
    return r
  }

  /** The customer left the hosted page without paying: Paystack reports the transaction `abandoned`. */
  abandon(reference: string): void {
    const tx = this.byReference.get(reference)
    if (tx?.status === 'ongoing') tx.status = 'abandoned'
  }

  refundsOf(transactionId: number): SimRefund[] {
    return this.refunds.filter((r) => r.transaction.id === transactionId)
  }

  allTransactions(): SimTransaction[] {
    return [...this.byReference.values()]
  }

  allRefunds(): SimRefund[] {
    return [...this.refunds]
  }

  banks(): readonly SimBank[] {
    return PAYSTACK_BANKS
  }

  /** The name the bank holds for an account: made up from its digits; none for `000…` or an unknown bank. */
  resolve(accountNumber: string, bankCode: string): { name: string; bank: SimBank } | undefined {
    const bank = PAYSTACK_BANKS.find((b) => b.code === bankCode)
    const name = madeUpAccountName(accountNumber)
    return bank && name ? { name, bank } : undefined
  }

  /** A recipient for an account; the same account again gives the same recipient. */
  recipientFor(input: { name: string; accountNumber: string; bank: SimBank; accountName: string; currency: string }) {
    const key = `${input.bank.code}:${input.accountNumber}:${input.currency}`
    const existing = this.recipients.get(key)
    if (existing) return existing
    const recipient: SimRecipient = {
      id: this.nextId++,
      recipientCode: `RCP_${randomBytes(8).toString('hex')}`,
      name: input.name,
      currency: input.currency,
      accountNumber: input.accountNumber,
      accountName: input.accountName,
      bank: input.bank,
      createdAt: new Date().toISOString(),
    }
    this.recipients.set(key, recipient)
    return recipient
  }

  recipientByCode(code: string): SimRecipient | undefined {
    return [...this.recipients.values()].find((r) => r.recipientCode === code || String(r.id) === code)
  }

  /**
   * The NGN balance in kobo: the opening balance, plus charges paid less their fees, less
   * processed refunds and transfers `pending` or `success` (a failed one gives its amount back).
   */
  balance(): number {
    let balance = this.openingBalance
    for (const tx of this.byReference.values()) if (tx.status === 'success') balance += tx.amount - cardFeeOf(tx.amount)
    for (const r of this.refunds) if (r.status === 'processed') balance -= r.amount
    for (const tr of this.transfers.values())
      if (tr.status === 'pending' || tr.status === 'success') balance -= tr.amount
    return balance
  }

  /** A transfer from the balance, `pending`; refused as a duplicate reference or for want of balance. */
  transfer(input: {
    reference: string
    amount: number
    currency: string
    reason: string
    recipient: SimRecipient
  }): SimTransfer | 'duplicate' | 'insufficient' {
    if (this.transfers.has(input.reference)) return 'duplicate'
    if (input.amount > this.balance()) return 'insufficient'
    const now = new Date().toISOString()
    const transfer: SimTransfer = {
      id: this.nextId++,
      ...input,
      transferCode: `TRF_${randomBytes(8).toString('hex')}`,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      transferredAt: null,
    }
    this.transfers.set(transfer.reference, transfer)
    return transfer
  }

  findTransfer(reference: string): SimTransfer | undefined {
    return this.transfers.get(reference)
  }

  allTransfers(): SimTransfer[] {
    return [...this.transfers.values()]
  }

  /** Paystack's outcome of a pending transfer (the balance follows); undefined unless it was pending. */
  settleTransfer(reference: string, outcome: 'success' | 'failed'): SimTransfer | undefined {
    const transfer = this.transfers.get(reference)
    if (transfer?.status !== 'pending') return undefined
    transfer.status = outcome
    transfer.updatedAt = new Date().toISOString()
    if (outcome === 'success') transfer.transferredAt = transfer.updatedAt
    return transfer
  }
}

/**
 * One page of a list as Paystack answers it: `from`/`to` on the creation time, `status`,
 * `perPage` (default 50) and `page` (from 1), with its `meta`.
 */
function pageOfList<T>(
  rows: T[],
  query: Record<string, string | undefined>,
  createdAt: (row: T) => string,
  status: (row: T) => string,
): { data: T[]; meta: { total: number; skipped: number; perPage: number; page: number; pageCount: number } } {
  const from = query.from ? Date.parse(query.from) : -Infinity
  const to = query.to ? Date.parse(query.to) : Infinity
  const list = rows.filter((r) => {
    const at = Date.parse(createdAt(r))
    return at >= from && at <= to && (!query.status || status(r) === query.status)
  })
  const perPage = Math.max(1, Math.min(Number(query.perPage) || 50, 1000))
  const page = Math.max(1, Number(query.page) || 1)
  const skipped = (page - 1) * perPage
  return {
    data: list.slice(skipped, skipped + perPage),
    meta: { total: list.length, skipped, perPage, page, pageCount: Math.max(1, Math.ceil(list.length / perPage)) },
  }
}

/** Paystack's verify `data` for a transaction. */
export function transactionData(tx: SimTransaction) {
  return {
    id: tx.id,
    domain: 'test',
    status: tx.status,
    reference: tx.reference,
    amount: tx.amount,
    message: null,
    gateway_response:
      tx.status === 'success'
        ? 'Successful'
        : tx.status === 'failed'
          ? 'Declined'
          : tx.status === 'abandoned'
            ? 'The transaction was not completed'
            : 'The transaction is still in progress',
    paid_at: tx.paidAt,
    created_at: tx.createdAt,
    channel: 'card',
    currency: tx.currency,
    ip_address: '127.0.0.1',
    metadata: tx.metadata ?? '',
    fees: cardFeeOf(tx.amount),
    requested_amount: tx.amount,
    customer: {
      id: 1,
      first_name: null,
      last_name: null,
      email: tx.email,
      customer_code: 'CUS_simulator',
      phone: null,
      metadata: null,
      risk_action: 'default',
    },
    authorization: {
      authorization_code: 'AUTH_simulator',
      bin: '408408',
      last4: '4081',
      exp_month: '12',
      exp_year: '2030',
      channel: 'card',
      card_type: 'visa',
      bank: 'TEST BANK',
      country_code: 'NG',
      brand: 'visa',
      reusable: true,
      signature: 'SIG_simulator',
      account_name: null,
    },
  }
}

function refundData(r: SimRefund) {
  return {
    id: r.id,
    integration: 1,
    domain: 'test',
    transaction: transactionData(r.transaction),
    dispute: null,
    amount: r.amount,
    deducted_amount: 0,
    currency: r.currency,
    channel: null,
    fully_deducted: false,
    refunded_by: 'simulator@oja.local',
    merchant_note: r.merchantNote,
    customer_note: r.customerNote,
    status: r.status,
    expected_at: new Date(Date.now() + 86_400_000).toISOString(),
    createdAt: r.createdAt,
    updatedAt: r.createdAt,
  }
}

function bankData(b: SimBank) {
  return {
    id: b.id,
    name: b.name,
    slug: b.slug,
    code: b.code,
    longcode: b.longcode,
    gateway: null,
    pay_with_bank: false,
    supports_transfer: true,
    active: true,
    is_deleted: false,
    country: 'Nigeria',
    currency: 'NGN',
    type: 'nuban',
    createdAt: '2016-07-14T10:04:29.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  }
}

function recipientData(r: SimRecipient) {
  return {
    active: true,
    createdAt: r.createdAt,
    currency: r.currency,
    description: null,
    domain: 'test',
    email: null,
    id: r.id,
    integration: 1,
    metadata: null,
    name: r.name,
    recipient_code: r.recipientCode,
    type: 'nuban',
    updatedAt: r.createdAt,
    is_deleted: false,
    isDeleted: false,
    details: {
      authorization_code: null,
      account_number: r.accountNumber,
      account_name: r.accountName,
      bank_code: r.bank.code,
      bank_name: r.bank.name,
    },
  }
}

/** A transfer as Paystack describes it: `recipient` is the id when created, the recipient elsewhere. */
function transferData(tr: SimTransfer, recipientInFull: boolean) {
  return {
    amount: tr.amount,
    createdAt: tr.createdAt,
    currency: tr.currency,
    domain: 'test',
    failures: null,
    id: tr.id,
    integration: 1,
    reason: tr.reason,
    reference: tr.reference,
    source: 'balance',
    source_details: null,
    status: tr.status,
    titan_code: null,
    transfer_code: tr.transferCode,
    transferred_at: tr.transferredAt,
    updatedAt: tr.updatedAt,
    recipient: recipientInFull ? recipientData(tr.recipient) : tr.recipient.id,
  }
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
const money = (kobo: number, currency: string) =>
  `${currency} ${(kobo / 100).toLocaleString('en-NG', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

function checkoutPage(tx: SimTransaction, base: string): string {
  const done = tx.status !== 'ongoing'
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Paystack simulator</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
.card{border:1px solid #ddd;border-radius:12px;padding:1.5rem}h1{font-size:1.1rem;color:#0ba4db}
.amount{font-size:2rem;font-weight:700;margin:.5rem 0}button{font-size:1rem;padding:.7rem 1.4rem;border:0;border-radius:8px;margin-right:.5rem;cursor:pointer}
.pay{background:#3bb75e;color:#fff}.fail{background:#eee}small{color:#777}</style></head>
<body><div class="card"><h1>Paystack simulator (test mode)</h1>
<p>${escapeHtml(tx.email)}</p><div class="amount">${escapeHtml(money(tx.amount, tx.currency))}</div>
<p><small>Reference ${escapeHtml(tx.reference)}</small></p>
${
  done
    ? `<p>This transaction is <strong>${escapeHtml(tx.status)}</strong>.</p>`
    : `
<form method="post" action="${base}/checkout/${escapeHtml(tx.accessCode)}/pay" style="display:inline"><button class="pay" type="submit">Pay</button></form>
<form method="post" action="${base}/checkout/${escapeHtml(tx.accessCode)}/fail" style="display:inline"><button class="fail" type="submit">Fail</button></form>`
}
<p><small>No money moves: Oja runs this simulator because PAYSTACK_SECRET_KEY is not set.</small></p></div></body></html>`
}

export type SimulatorOptions = {
  simulator: PaystackSimulator
  /** Public origin of the app, for the hosted checkout page links. */
  publicUrl: string
  /** Sends a signed webhook to the app (in-process). */
  deliverWebhook: (rawBody: string, signature: string) => Promise<void>
}

const Answer = Type.Object({
  status: Type.Boolean(),
  message: Type.String(),
  data: Type.Optional(Type.Unknown()),
  meta: Type.Optional(Type.Unknown()),
  code: Type.Optional(Type.String()),
  type: Type.Optional(Type.String()),
})
const AnyBody = Type.Object({}, { additionalProperties: true })

/** The simulator's routes; register with `prefix: '/paystack-sim'`. */
export const simulatorRoutes: FastifyPluginAsync<SimulatorOptions> = async (
  app,
  { simulator, publicUrl, deliverWebhook },
) => {
  const base = `${publicUrl}/paystack-sim`
  const hide = { hide: true, tags: ['paystack-simulator'] }
  // The hosted page posts plain HTML forms.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, _body, done) =>
    done(null, {}),
  )
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.includes('/checkout/')) return
    if (req.headers.authorization !== `Bearer ${simulator.secretKey}`)
      return reply.code(401).send({ status: false, message: 'Invalid key' })
  })

  const sendSigned = async (event: string, data: unknown) => {
    const raw = JSON.stringify({ event, data })
    await deliverWebhook(raw, signPaystackBody(raw, simulator.secretKey))
  }

  app.post(
    '/transaction/initialize',
    { schema: { ...hide, body: AnyBody, response: { 200: Answer, 400: Answer, 401: Answer } } },
    async (req, reply) => {
      const b = req.body as Record<string, unknown>
      const amount = amountOf(b.amount)
      if (typeof b.email !== 'string' || amount === undefined || amount <= 0)
        return reply
          .code(400)
          .send({ status: false, message: 'Invalid amount or email', code: 'invalid_params', type: 'validation_error' })
      const reference =
        typeof b.reference === 'string' && /^[A-Za-z0-9.=-]+$/.test(b.reference)
          ? b.reference
          : `sim-${randomBytes(8).toString('hex')}`
      const tx = simulator.initialize({
        email: b.email,
        amount,
        currency: typeof b.currency === 'string' ? b.currency : 'NGN',
        reference,
        callbackUrl: typeof b.callback_url === 'string' ? b.callback_url : null,
        metadata: b.metadata ?? '',
      })
      if (tx === 'duplicate')
        return reply.code(400).send({
          status: false,
          message: 'Duplicate Transaction Reference',
          code: 'duplicate_reference',
          type: 'validation_error',
        })
      return {
        status: true,
        message: 'Authorization URL created',
        data: {
          authorization_url: `${base}/checkout/${tx.accessCode}`,
          access_code: tx.accessCode,
          reference: tx.reference,
        },
      }
    },
  )

  app.get(
    '/transaction/verify/:reference',
    { schema: { ...hide, response: { 200: Answer, 400: Answer, 401: Answer } } },
    async (req, reply) => {
      const tx = simulator.find((req.params as { reference: string }).reference)
      if (!tx)
        return reply.code(400).send({
          status: false,
          message: 'Transaction reference not found',
          code: 'transaction_not_found',
          type: 'validation_error',
        })
      return { status: true, message: 'Verification successful', data: transactionData(tx) }
    },
  )

  app.post(
    '/refund',
    { schema: { ...hide, body: AnyBody, response: { 200: Answer, 400: Answer, 401: Answer, 404: Answer } } },
    async (req, reply) => {
      const b = req.body as Record<string, unknown>
      const tx =
        typeof b.transaction === 'string' || typeof b.transaction === 'number'
          ? simulator.byIdOrReference(String(b.transaction))
          : undefined
      // Paystack answers an unknown transaction with 404.
      if (!tx)
        return reply.code(404).send({
          status: false,
          message: 'Transaction not found',
          code: 'transaction_not_found',
          type: 'validation_error',
        })
      if (tx.status !== 'success')
        return reply.code(400).send({
          status: false,
          message: 'Cannot refund a transaction that is not successful',
          type: 'validation_error',
        })
      const amount = b.amount === undefined ? tx.amount - tx.refunded : amountOf(b.amount)
      if (amount === undefined || amount <= 0 || amount > tx.amount - tx.refunded)
        return reply.code(400).send({
          status: false,
          message: 'Refund amount cannot be more than the transaction amount',
          type: 'validation_error',
        })
      const refund = simulator.refund(tx, amount, {
        merchant: typeof b.merchant_note === 'string' ? b.merchant_note : null,
        customer: typeof b.customer_note === 'string' ? b.customer_note : null,
      })
      // Paystack reports the outcome later, by webhook.
      simulator.later(500, () => {
        refund.status = 'processed'
        const data = {
          id: refund.id,
          status: 'processed',
          transaction_reference: tx.reference,
          refund_reference: `sim-rf-${refund.id}`,
          amount: String(refund.amount),
          currency: refund.currency,
          domain: 'test',
          customer: { email: tx.email },
        }
        sendSigned('refund.processed', data).catch((err) => req.log.warn({ err }, 'simulator webhook failed'))
      })
      return { status: true, message: 'Refund has been queued for processing', data: refundData(refund) }
    },
  )

  app.get('/refund', { schema: { ...hide, response: { 200: Answer, 401: Answer } } }, async (req) => {
    const query = req.query as Record<string, string | undefined>
    const rows = query.transaction ? simulator.refundsOf(Number(query.transaction)) : simulator.allRefunds()
    const { data, meta } = pageOfList(
      rows,
      query,
      (r) => r.createdAt,
      (r) => r.status,
    )
    return { status: true, message: 'Refunds retrieved', data: data.map(refundData), meta }
  })

  app.get('/transaction', { schema: { ...hide, response: { 200: Answer, 401: Answer } } }, async (req) => {
    const { data, meta } = pageOfList(
      simulator.allTransactions(),
      req.query as Record<string, string | undefined>,
      (tx) => tx.createdAt,
      (tx) => tx.status,
    )
    return { status: true, message: 'Transactions retrieved', data: data.map(transactionData), meta }
  })

  app.get('/bank', { schema: { ...hide, response: { 200: Answer, 400: Answer, 401: Answer } } }, async (req, reply) => {
    // Cursor pagination: `next` names the last bank of the page before.
    const query = req.query as Record<string, string | undefined>
    const banks = simulator.banks()
    const perPage = Math.max(1, Math.min(Number(query.perPage) || 50, 100))
    const after = query.next ? Number(/^bank:(\d+)$/.exec(Buffer.from(query.next, 'base64').toString())?.[1]) : 0
    if (Number.isNaN(after)) return reply.code(400).send({ status: false, message: 'Invalid cursor' })
    const start = after ? banks.findIndex((b) => b.id === after) + 1 : 0
    const page = banks.slice(start, start + perPage)
    const cursor = (b: SimBank) => Buffer.from(`bank:${b.id}`).toString('base64')
    return {
      status: true,
      message: 'Banks retrieved',
      data: page.map(bankData),
      meta: {
        next: start + perPage < banks.length ? cursor(page[page.length - 1]!) : null,
        previous: start > 0 ? cursor(banks[start]!) : null,
        perPage,
      },
    }
  })

  app.get(
    '/bank/resolve',
    { schema: { ...hide, response: { 200: Answer, 401: Answer, 422: Answer } } },
    async (req, reply) => {
      const query = req.query as Record<string, string | undefined>
      const resolved = simulator.resolve(query.account_number ?? '', query.bank_code ?? '')
      if (!resolved)
        return reply
          .code(422)
          .send({ status: false, message: 'Could not resolve account name. Check parameters or try again.' })
      return {
        status: true,
        message: 'Account number resolved',
        data: { account_number: query.account_number, account_name: resolved.name, bank_id: resolved.bank.id },
      }
    },
  )

  app.post(
    '/transferrecipient',
    { schema: { ...hide, body: AnyBody, response: { 201: Answer, 400: Answer, 401: Answer } } },
    async (req, reply) => {
      const b = req.body as Record<string, unknown>
      const currency = typeof b.currency === 'string' ? b.currency : 'NGN'
      if (b.type !== 'nuban' || typeof b.name !== 'string' || !b.name.trim() || currency !== 'NGN')
        return reply.code(400).send({
          status: false,
          message: 'Invalid recipient: type nuban, a name and currency NGN are required',
          code: 'invalid_params',
          type: 'validation_error',
        })
      const accountNumber = typeof b.account_number === 'string' ? b.account_number : ''
      const bankCode = typeof b.bank_code === 'string' ? b.bank_code : ''
      if (!simulator.banks().some((bank) => bank.code === bankCode))
        return reply.code(400).send({ status: false, message: 'Invalid bank code', type: 'validation_error' })
      const resolved = simulator.resolve(accountNumber, bankCode)
      if (!resolved)
        return reply.code(400).send({ status: false, message: 'Cannot resolve account', type: 'validation_error' })
      const recipient = simulator.recipientFor({
        name: b.name,
        accountNumber,
        bank: resolved.bank,
        accountName: resolved.name,
        currency,
      })
      return reply
        .code(201)
        .send({ status: true, message: 'Transfer recipient created successfully', data: recipientData(recipient) })
    },
  )

  app.post(
    '/transfer',
    { schema: { ...hide, body: AnyBody, response: { 200: Answer, 400: Answer, 401: Answer } } },
    async (req, reply) => {
      const b = req.body as Record<string, unknown>
      const invalid = (message: string) =>
        reply.code(400).send({ status: false, message, code: 'invalid_params', type: 'validation_error' })
      const amount = amountOf(b.amount)
      const currency = typeof b.currency === 'string' ? b.currency : 'NGN'
      if (b.source !== 'balance') return invalid('Invalid source')
      if (amount === undefined || amount <= 0) return invalid('Invalid amount')
      const reference = b.reference === undefined ? `trf_${randomBytes(10).toString('hex')}` : String(b.reference)
      if (!TRANSFER_REFERENCE.test(reference))
        return invalid(
          'Invalid transfer reference: 16 to 50 lowercase letters, digits, dashes and underscores are allowed',
        )
      const recipient = simulator.recipientByCode(String(b.recipient ?? ''))
      if (!recipient)
        return reply
          .code(400)
          .send({ status: false, message: 'Recipient specified is invalid', type: 'validation_error' })
      if (currency !== recipient.currency)
        return reply
          .code(400)
          .send({ status: false, message: 'Currency does not match the recipient', type: 'validation_error' })
      const transfer = simulator.transfer({
        reference,
        amount,
        currency,
        reason: typeof b.reason === 'string' ? b.reason : '',
        recipient,
      })
      if (transfer === 'duplicate')
        return reply.code(400).send({
          status: false,
          message: 'Transfer reference already exists',
          code: 'duplicate_reference',
          type: 'validation_error',
        })
      if (transfer === 'insufficient')
        return reply.code(400).send({
          status: false,
          message: 'Your balance is not enough to fulfil this request',
          code: 'insufficient_balance',
          type: 'validation_error',
        })
      // The bank pays a moment later; Paystack reports it by webhook.
      simulator.later(simulator.transferDelayMs, () => {
        const paid = simulator.settleTransfer(transfer.reference, 'success')
        if (!paid) return
        sendSigned('transfer.success', {
          ...transferData(paid, true),
          session: { provider: null, id: null },
          created_at: paid.createdAt,
          updated_at: paid.updatedAt,
        }).catch((err) => req.log.warn({ err }, 'simulator webhook failed'))
      })
      return { status: true, message: 'Transfer has been queued', data: transferData(transfer, false) }
    },
  )

  app.get(
    '/transfer/verify/:reference',
    { schema: { ...hide, response: { 200: Answer, 401: Answer, 404: Answer } } },
    async (req, reply) => {
      const transfer = simulator.findTransfer((req.params as { reference: string }).reference)
      if (!transfer) return reply.code(404).send({ status: false, message: 'Transfer not found' })
      return { status: true, message: 'Transfer retrieved', data: transferData(transfer, true) }
    },
  )

  app.get('/transfer', { schema: { ...hide, response: { 200: Answer, 401: Answer } } }, async (req) => {
    const { data, meta } = pageOfList(
      simulator.allTransfers(),
      req.query as Record<string, string | undefined>,
      (tr) => tr.createdAt,
      (tr) => tr.status,
    )
    return { status: true, message: 'Transfers retrieved', data: data.map((tr) => transferData(tr, true)), meta }
  })

  app.get('/balance', { schema: { ...hide, response: { 200: Answer, 401: Answer } } }, async () => ({
    status: true,
    message: 'Balances retrieved',
    data: [{ currency: 'NGN', balance: simulator.balance() }],
  }))

  app.get('/checkout/:code', { schema: hide }, async (req, reply) => {
    const tx = simulator.byCode((req.params as { code: string }).code)
    if (!tx)
      return reply
        .code(404)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><p>Unknown or expired payment page.</p>')
    return reply.type('text/html; charset=utf-8').send(checkoutPage(tx, base))
  })

  const finish = (outcome: 'pay' | 'fail') => async (req: FastifyRequest, reply: FastifyReply) => {
    const tx = simulator.byCode((req.params as { code: string }).code)
    if (!tx) return reply.code(404).type('text/html; charset=utf-8').send('<!doctype html><p>Unknown payment page.</p>')
    if (tx.status === 'ongoing') {
      if (outcome === 'pay') {
        tx.status = 'success'
        tx.paidAt = new Date().toISOString()
        await sendSigned('charge.success', transactionData(tx)).catch((err) =>
          req.log.warn({ err }, 'simulator webhook failed'),
        )
      } else {
        // Paystack sends no webhook for a failed charge.
        tx.status = 'failed'
      }
    }
    if (!tx.callbackUrl) return reply.code(200).type('text/html; charset=utf-8').send(checkoutPage(tx, base))
    const url = new URL(tx.callbackUrl)
    url.searchParams.set('trxref', tx.reference)
    url.searchParams.set('reference', tx.reference)
    return reply.redirect(url.toString(), 303)
  }
  app.post('/checkout/:code/pay', { schema: hide }, finish('pay'))
  app.post('/checkout/:code/fail', { schema: hide }, finish('fail'))
}
