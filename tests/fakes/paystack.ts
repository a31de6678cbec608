/**
 * A fake Paystack on loopback for tests: a real node:http server answering the documented
 * paths with the documented payloads (Paystack's API reference), and switches to misbehave.
 *
 * Transfers (seller payouts): banks, account resolution, recipients, transfers and the
 * balance. The balance is worked out from the fake's records whenever it is read (opening
 * balance + successful charges less their fees − processed refunds − transfers pending or
 * paid), so a test that changes a record by hand moves it too; `balance = n` sets it from now
 * on. A test decides each transfer's outcome with settleTransfer(), which answers the signed
 * webhook to post (tests/factories/commerce.ts, postWebhook), as chargeSuccess() does.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  cardFeeOf,
  madeUpAccountName,
  PAYSTACK_BANKS,
  type PaystackBankData,
} from '../../src/payments/paystack-data.js'

/** How the next calls to an endpoint behave. */
export type FakeMode =
  | 'ok'
  /** Accept the request and never answer. */
  | 'hang'
  /** 500 with a JSON body. */
  | 'error500'
  /** 200 with `{status:false, message}` (Paystack's other way of saying no). */
  | 'statusFalse'
  /** verify: answer success with a different amount. */
  | 'tamperAmount'
  /** verify: answer success in another currency. */
  | 'wrongCurrency'
  /** initialize: 400 duplicate_reference. */
  | 'duplicateReference'
  /** refund, transfer: do the work, then never answer (an answer lost to a timeout). */
  | 'lostAnswer'
  /** transfer: create it in status `otp` (the integration asks for an OTP; no money moves). */
  | 'otp'
  /** transfer: 400 insufficient_balance, whatever the balance. */
  | 'insufficientBalance'

export type FakeTransaction = {
  id: number
  reference: string
  amount: number
  currency: string
  email: string
  callback_url: string | null
  metadata: unknown
  access_code: string
  status: 'ongoing' | 'success' | 'failed' | 'abandoned'
  created_at: string
  paid_at: string | null
  refunded: number
}

export type FakeRefund = {
  id: number
  transaction: FakeTransaction
  amount: number
  currency: string
  merchant_note: string | null
  customer_note: string | null
  status: string
  createdAt: string
}

export type FakeCall = { method: string; path: string; body: unknown; authorization: string | undefined }

export type FakeBank = PaystackBankData

export type FakeRecipient = {
  id: number
  recipient_code: string
  type: 'nuban'
  name: string
  currency: string
  account_number: string
  account_name: string
  bank_code: string
  bank_name: string
  createdAt: string
  updatedAt: string
}

export type FakeTransferStatus = 'pending' | 'otp' | 'success' | 'failed' | 'reversed' | 'abandoned'

export type FakeTransfer = {
  id: number
  reference: string
  transfer_code: string
  amount: number
  currency: string
  reason: string
  recipient_code: string
  status: FakeTransferStatus
  createdAt: string
  updatedAt: string
  transferred_at: string | null
}

type Webhook = { payload: string; headers: Record<string, string> }

/** Nigerian banks as `GET /bank?country=nigeria` lists them (the same list the simulator serves). */
export const FAKE_BANKS: readonly FakeBank[] = PAYSTACK_BANKS

/** The made-up name of an account nobody registered (see madeUpAccountName). */
export const fakeAccountName = madeUpAccountName

/** Paystack's fee on a local card charge, as the fake reports it on verify. */
export const fakeFees = cardFeeOf

/** A transfer reference Paystack accepts: lowercase letters, digits, `-` and `_`, 16 to 50 of them. */
const TRANSFER_REFERENCE = /^[a-z0-9_-]{16,50}$/
/** Transfers that hold money: queued or paid (an `otp` one has not left yet). */
const HOLDS_MONEY: readonly FakeTransferStatus[] = ['pending', 'success']

export class FakePaystack {
  readonly transactions = new Map<string, FakeTransaction>()
  readonly refunds: FakeRefund[] = []
  readonly calls: FakeCall[] = []
  /** Transfers by our reference: what Paystack holds, to compare with Oja's ledger. */
  readonly transfers = new Map<string, FakeTransfer>()
  /** Transfer recipients by `recipient_code`. */
  readonly recipients = new Map<string, FakeRecipient>()
  /**
   * Account names a test registers, by `bankCode:accountNumber` (`accounts.set('058:0123456789',
   * 'ADA OBI')`); they win over the made-up name of fakeAccountName().
   */
  readonly accounts = new Map<string, string>()
  /** The most banks one `GET /bank` page holds (Paystack: 100); lower it to make a test follow the cursor. */
  bankPageLimit = 100
  modes: {
    initialize: FakeMode
    verify: FakeMode
    refund: FakeMode
    listRefunds: FakeMode
    listTransactions: FakeMode
    listBanks: FakeMode
    resolve: FakeMode
    createRecipient: FakeMode
    /** `POST /transfer`: also 'lostAnswer', 'otp', 'insufficientBalance', 'duplicateReference'. */
    transfer: FakeMode
    verifyTransfer: FakeMode
    listTransfers: FakeMode
    balance: FakeMode
  } = {
    initialize: 'ok',
    verify: 'ok',
    refund: 'ok',
    listRefunds: 'ok',
    listTransactions: 'ok',
    listBanks: 'ok',
    resolve: 'ok',
    createRecipient: 'ok',
    transfer: 'ok',
    verifyTransfer: 'ok',
    listTransfers: 'ok',
    balance: 'ok',
  }
  private nextId = 3_000_000_000
  private readonly hanging = new Set<ServerResponse>()
  /** What the balance holds beyond the records: the opening balance, and every `balance = n`. */
  private balanceOffset: number

  private constructor(
    readonly server: Server,
    readonly url: string,
    readonly secretKey: string,
    openingBalance: number,
  ) {
    this.balanceOffset = openingBalance
  }

  /**
   * A fake on a free loopback port. `balance`: the opening NGN balance in kobo (default
   * ₦10,000,000, so a payout does not need charges first; `fake.balance = 0` to refuse one).
   */
  static async start(
    secretKey = `sk_test_${randomBytes(12).toString('hex')}`,
    opts: { balance?: number } = {},
  ): Promise<FakePaystack> {
    const holder: { fake?: FakePaystack } = {}
    const server = createServer((req, res) => void holder.fake!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    holder.fake = new FakePaystack(server, `http://127.0.0.1:${port}`, secretKey, opts.balance ?? 1_000_000_000)
    return holder.fake
  }

  /**
   * The NGN balance in kobo, as `GET /balance` answers it: worked out from the records, so it
   * follows them (a charge paid adds its amount less its fees, a refund marked `processed`
   * takes its amount, a transfer `pending` or `success` takes its amount; `failed`, `reversed`
   * or `abandoned` gives it back). Setting it (`fake.balance = 0`) shifts it to that figure.
   */
  get balance(): number {
    let balance = this.balanceOffset
    for (const tx of this.transactions.values()) if (tx.status === 'success') balance += tx.amount - fakeFees(tx.amount)
    for (const r of this.refunds) if (r.status === 'processed') balance -= r.amount
    for (const tr of this.transfers.values()) if (HOLDS_MONEY.includes(tr.status)) balance -= tr.amount
    return balance
  }

  set balance(kobo: number) {
    this.balanceOffset += kobo - this.balance
  }

  setBalance(kobo: number): void {
    this.balance = kobo
  }

  /**
   * Paystack's outcome of a transfer: its status becomes `outcome` (the balance follows), and
   * the answer is the signed `transfer.<outcome>` webhook to post to Oja.
   */
  settleTransfer(reference: string, outcome: 'success' | 'failed' | 'reversed'): Webhook {
    const tr = this.transfers.get(reference)
    if (!tr) throw new Error(`fake paystack: no transfer ${reference}`)
    const now = new Date().toISOString()
    tr.status = outcome
    tr.updatedAt = now
    if (outcome === 'success') tr.transferred_at = now
    return this.transferWebhook(reference)
  }

  /** The signed `transfer.success|failed|reversed` webhook of a transfer as it stands (to send it again, say). */
  transferWebhook(reference: string): Webhook {
    const tr = this.transfers.get(reference)
    if (!tr) throw new Error(`fake paystack: no transfer ${reference}`)
    // Paystack sends transfer.success, transfer.failed and transfer.reversed, nothing else.
    if (tr.status !== 'success' && tr.status !== 'failed' && tr.status !== 'reversed')
      throw new Error(`fake paystack: transfer ${reference} is ${tr.status}, Paystack sends no webhook for that`)
    return this.webhook(`transfer.${tr.status}`, {
      ...this.transferData(tr, true),
      session: { provider: null, id: null },
      created_at: tr.createdAt,
      updated_at: tr.updatedAt,
    })
  }

  /** The `POST /transfer` calls, or those for one reference (to assert it was sent once). */
  transferCalls(reference?: string): FakeCall[] {
    return this.calls.filter(
      (c) =>
        c.method === 'POST' &&
        c.path === '/transfer' &&
        (reference === undefined || (c.body as { reference?: unknown }).reference === reference),
    )
  }

  /** The name the bank holds for an account: a registered one, else a made-up one, else none. */
  accountName(bankCode: string, accountNumber: string): string | undefined {
    if (!FAKE_BANKS.some((b) => b.code === bankCode)) return undefined
    return this.accounts.get(`${bankCode}:${accountNumber}`) ?? fakeAccountName(accountNumber)
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  /** The customer pays on the hosted page: the transaction becomes `success`. */
  pay(reference: string): FakeTransaction {
    const tx = this.transactions.get(reference)
    if (!tx) throw new Error(`fake paystack: no transaction ${reference}`)
    tx.status = 'success'
    tx.paid_at = new Date().toISOString()
    return tx
  }

  /** The customer's charge fails (no webhook: Paystack sends none for failures). */
  decline(reference: string): void {
    const tx = this.transactions.get(reference)
    if (!tx) throw new Error(`fake paystack: no transaction ${reference}`)
    tx.status = 'failed'
  }

  /** The customer left the hosted page without paying: Paystack reports the transaction `abandoned`. */
  abandon(reference: string): void {
    const tx = this.transactions.get(reference)
    if (!tx) throw new Error(`fake paystack: no transaction ${reference}`)
    tx.status = 'abandoned'
  }

  /** A refund made on Paystack's dashboard (outside Oja), in the given state. */
  dashboardRefund(reference: string, amount: number, status = 'processed'): FakeRefund {
    const tx = this.transactions.get(reference)
    if (!tx) throw new Error(`fake paystack: no transaction ${reference}`)
    tx.refunded += amount
    const refund: FakeRefund = {
      id: this.nextId++,
      transaction: tx,
      amount,
      currency: tx.currency,
      merchant_note: null,
      customer_note: null,
      status,
      createdAt: new Date().toISOString(),
    }
    this.refunds.push(refund)
    return refund
  }

  /** A signed webhook as Paystack would POST it. */
  webhook(event: string, data: unknown): Webhook {
    const payload = JSON.stringify({ event, data })
    return { payload, headers: { 'content-type': 'application/json', 'x-paystack-signature': this.sign(payload) } }
  }

  chargeSuccess(reference: string): { payload: string; headers: Record<string, string> } {
    const tx = this.transactions.get(reference)
    if (!tx) throw new Error(`fake paystack: no transaction ${reference}`)
    return this.webhook('charge.success', this.transactionData(tx))
  }

  sign(payload: string, key = this.secretKey): string {
    return createHmac('sha512', key).update(payload).digest('hex')
  }

  callsTo(path: string): FakeCall[] {
    return this.calls.filter((c) => c.path.startsWith(path))
  }

  transactionData(tx: FakeTransaction, override: Partial<{ amount: number; currency: string; status: string }> = {}) {
    return {
      id: tx.id,
      domain: 'test',
      status: override.status ?? tx.status,
      reference: tx.reference,
      receipt_number: null,
      amount: override.amount ?? tx.amount,
      message: null,
      gateway_response:
        tx.status === 'success'
          ? 'Successful'
          : tx.status === 'failed'
            ? 'Declined'
            : tx.status === 'abandoned'
              ? 'The transaction was not completed'
              : 'The transaction is still in progress',
      paid_at: tx.paid_at,
      created_at: tx.created_at,
      channel: 'card',
      currency: override.currency ?? tx.currency,
      ip_address: '127.0.0.1',
      metadata: tx.metadata ?? '',
      log: null,
      fees: fakeFees(tx.amount),
      fees_split: null,
      plan: null,
      split: {},
      order_id: null,
      paidAt: tx.paid_at,
      createdAt: tx.created_at,
      requested_amount: tx.amount,
      pos_transaction_data: null,
      source: null,
      fees_breakdown: null,
      connect: null,
      transaction_date: tx.created_at,
      plan_object: {},
      subaccount: {},
      customer: {
        id: 1,
        first_name: null,
        last_name: null,
        email: tx.email,
        customer_code: 'CUS_fake',
        phone: null,
        metadata: null,
        risk_action: 'default',
        international_format_phone: null,
      },
      authorization: {
        authorization_code: 'AUTH_fake',
        bin: '408408',
        last4: '4081',
        exp_month: '12',
        exp_year: '2030',
        channel: 'card',
        card_type: 'visa ',
        bank: 'TEST BANK',
        country_code: 'NG',
        brand: 'visa',
        reusable: true,
        signature: 'SIG_fake',
        account_name: null,
      },
    }
  }

  refundData(r: FakeRefund) {
    return {
      transaction: {
        id: r.transaction.id,
        domain: 'test',
        reference: r.transaction.reference,
        amount: r.transaction.amount,
        paid_at: r.transaction.paid_at,
        channel: 'card',
        currency: r.transaction.currency,
      },
      integration: 1,
      deducted_amount: 0,
      channel: null,
      merchant_note: r.merchant_note,
      customer_note: r.customer_note,
      status: r.status,
      refunded_by: 'fake@paystack.test',
      expected_at: new Date(Date.now() + 86_400_000).toISOString(),
      currency: r.currency,
      domain: 'test',
      amount: r.amount,
      fully_deducted: false,
      id: r.id,
      createdAt: r.createdAt,
      updatedAt: r.createdAt,
    }
  }

  bankData(b: FakeBank) {
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

  recipientData(r: FakeRecipient) {
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
      recipient_code: r.recipient_code,
      type: r.type,
      updatedAt: r.updatedAt,
      is_deleted: false,
      isDeleted: false,
      details: {
        authorization_code: null,
        account_number: r.account_number,
        account_name: r.account_name,
        bank_code: r.bank_code,
        bank_name: r.bank_name,
      },
    }
  }

  /** A transfer as Paystack describes it: `recipient` is the id when created, the recipient elsewhere. */
  transferData(tr: FakeTransfer, recipientInFull: boolean) {
    const recipient = this.recipients.get(tr.recipient_code)!
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
      transfer_code: tr.transfer_code,
      transferred_at: tr.transferred_at,
      updatedAt: tr.updatedAt,
      recipient: recipientInFull ? this.recipientData(recipient) : recipient.id,
    }
  }

  /**
   * One page of a list as Paystack answers it (`from`/`to` on the creation time, `status`,
   * `perPage`, `page`), with its `meta`.
   */
  private page<T>(
    rows: T[],
    url: URL,
    createdAt: (row: T) => string,
    status: (row: T) => string,
    message: string,
  ): { status: true; message: string; data: T[]; meta: Record<string, number> } {
    const q = url.searchParams
    const from = q.get('from') ? Date.parse(q.get('from')!) : -Infinity
    const to = q.get('to') ? Date.parse(q.get('to')!) : Infinity
    const wanted = q.get('status')
    const list = rows.filter((r) => {
      const at = Date.parse(createdAt(r))
      return at >= from && at <= to && (!wanted || status(r) === wanted)
    })
    const perPage = Math.max(1, Math.min(Number(q.get('perPage')) || 50, 1000))
    const page = Math.max(1, Number(q.get('page')) || 1)
    const skipped = (page - 1) * perPage
    return {
      status: true,
      message,
      data: list.slice(skipped, skipped + perPage),
      meta: { total: list.length, skipped, perPage, page, pageCount: Math.max(1, Math.ceil(list.length / perPage)) },
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }

  /** Applies a misbehaving mode; returns true when it answered (or hung). */
  private misbehave(mode: FakeMode, res: ServerResponse): boolean {
    if (mode === 'hang') {
      this.hanging.add(res)
      return true
    }
    if (mode === 'error500') {
      this.send(res, 500, { status: false, message: 'An error occurred' })
      return true
    }
    if (mode === 'statusFalse') {
      this.send(res, 200, { status: false, message: 'Something went wrong' })
      return true
    }
    return false
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    let body: Record<string, unknown>
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      return this.send(res, 400, { status: false, message: 'Invalid JSON' })
    }
    const url = new URL(req.url ?? '/', this.url)
    this.calls.push({
      method: req.method ?? '',
      path: url.pathname + url.search,
      body,
      authorization: req.headers.authorization,
    })
    if (req.headers.authorization !== `Bearer ${this.secretKey}`)
      return this.send(res, 401, { status: false, message: 'Invalid key' })

    if (req.method === 'POST' && url.pathname === '/transaction/initialize') {
      if (this.misbehave(this.modes.initialize, res)) return
      if (this.modes.initialize === 'duplicateReference')
        return this.send(res, 400, {
          status: false,
          message: 'Duplicate Transaction Reference',
          meta: { nextStep: 'Ensure that you are passing a unique reference' },
          type: 'validation_error',
          code: 'duplicate_reference',
        })
      const amount = typeof body.amount === 'number' ? body.amount : Number(body.amount)
      if (typeof body.email !== 'string' || !Number.isInteger(amount) || amount <= 0)
        return this.send(res, 400, {
          status: false,
          message: 'Invalid amount',
          type: 'validation_error',
          code: 'invalid_params',
        })
      const reference = typeof body.reference === 'string' ? body.reference : `T${randomBytes(6).toString('hex')}`
      if (!/^[A-Za-z0-9.=-]+$/.test(reference))
        return this.send(res, 400, {
          status: false,
          message: 'Invalid reference',
          type: 'validation_error',
          code: 'invalid_params',
        })
      if (this.transactions.has(reference))
        return this.send(res, 400, {
          status: false,
          message: 'Duplicate Transaction Reference',
          type: 'validation_error',
          code: 'duplicate_reference',
        })
      const tx: FakeTransaction = {
        id: this.nextId++,
        reference,
        amount,
        currency: typeof body.currency === 'string' ? body.currency : 'NGN',
        email: body.email,
        callback_url: typeof body.callback_url === 'string' ? body.callback_url : null,
        metadata: body.metadata ?? '',
        access_code: randomBytes(7).toString('hex'),
        status: 'ongoing',
        created_at: new Date().toISOString(),
        paid_at: null,
        refunded: 0,
      }
      this.transactions.set(reference, tx)
      return this.send(res, 200, {
        status: true,
        message: 'Authorization URL created',
        data: {
          authorization_url: `https://checkout.paystack.test/${tx.access_code}`,
          access_code: tx.access_code,
          reference,
        },
      })
    }

    const verify = /^\/transaction\/verify\/(.+)$/.exec(url.pathname)
    if (req.method === 'GET' && verify) {
      if (this.misbehave(this.modes.verify, res)) return
      const tx = this.transactions.get(decodeURIComponent(verify[1]!))
      if (!tx)
        return this.send(res, 400, {
          status: false,
          message: 'Transaction reference not found',
          type: 'validation_error',
          code: 'transaction_not_found',
        })
      const override =
        this.modes.verify === 'tamperAmount'
          ? { amount: tx.amount - 100, status: 'success' }
          : this.modes.verify === 'wrongCurrency'
            ? { currency: 'USD', status: 'success' }
            : {}
      return this.send(res, 200, {
        status: true,
        message: 'Verification successful',
        data: this.transactionData(tx, override),
      })
    }

    if (req.method === 'POST' && url.pathname === '/refund') {
      if (this.misbehave(this.modes.refund, res)) return
      const key = String(body.transaction ?? '')
      const tx = this.transactions.get(key) ?? [...this.transactions.values()].find((t) => String(t.id) === key)
      if (!tx)
        return this.send(res, 404, {
          status: false,
          message: 'Transaction not found',
          type: 'validation_error',
          code: 'transaction_not_found',
        })
      if (tx.status !== 'success')
        return this.send(res, 400, {
          status: false,
          message: 'Transaction has not been completed',
          type: 'validation_error',
        })
      const amount = body.amount === undefined ? tx.amount - tx.refunded : Number(body.amount)
      if (!Number.isInteger(amount) || amount <= 0 || amount > tx.amount - tx.refunded)
        return this.send(res, 400, {
          status: false,
          message: 'Refund amount cannot be more than the transaction amount',
          type: 'validation_error',
        })
      tx.refunded += amount
      const refund: FakeRefund = {
        id: this.nextId++,
        transaction: tx,
        amount,
        currency: tx.currency,
        merchant_note: typeof body.merchant_note === 'string' ? body.merchant_note : null,
        customer_note: typeof body.customer_note === 'string' ? body.customer_note : null,
        status: 'pending',
        createdAt: new Date().toISOString(),
      }
      this.refunds.push(refund)
      if (this.modes.refund === 'lostAnswer') {
        this.hanging.add(res)
        return
      }
      return this.send(res, 200, {
        status: true,
        message: 'Refund has been queued for processing',
        data: this.refundData(refund),
      })
    }

    if (req.method === 'GET' && url.pathname === '/refund') {
      if (this.misbehave(this.modes.listRefunds, res)) return
      const transaction = url.searchParams.get('transaction')
      const list = this.refunds.filter((r) => !transaction || String(r.transaction.id) === transaction)
      const answer = this.page(
        list,
        url,
        (r) => r.createdAt,
        (r) => r.status,
        'Refunds retrieved',
      )
      return this.send(res, 200, { ...answer, data: answer.data.map((r) => this.refundData(r)) })
    }

    if (req.method === 'GET' && url.pathname === '/transaction') {
      if (this.misbehave(this.modes.listTransactions, res)) return
      const answer = this.page(
        [...this.transactions.values()],
        url,
        (tx) => tx.created_at,
        (tx) => tx.status,
        'Transactions retrieved',
      )
      return this.send(res, 200, { ...answer, data: answer.data.map((tx) => this.transactionData(tx)) })
    }

    if (req.method === 'GET' && url.pathname === '/bank') {
      if (this.misbehave(this.modes.listBanks, res)) return
      // Cursor pagination: `next` names the last bank of the page before.
      const q = url.searchParams
      const perPage = Math.max(1, Math.min(Number(q.get('perPage')) || 50, 100, this.bankPageLimit))
      const after = q.get('next')
        ? Number(/^bank:(\d+)$/.exec(Buffer.from(q.get('next')!, 'base64').toString())?.[1])
        : 0
      if (Number.isNaN(after)) return this.send(res, 400, { status: false, message: 'Invalid cursor' })
      const start = after ? FAKE_BANKS.findIndex((b) => b.id === after) + 1 : 0
      const page = FAKE_BANKS.slice(start, start + perPage)
      const more = start + perPage < FAKE_BANKS.length
      return this.send(res, 200, {
        status: true,
        message: 'Banks retrieved',
        data: page.map((b) => this.bankData(b)),
        meta: {
          next: more ? Buffer.from(`bank:${page[page.length - 1]!.id}`).toString('base64') : null,
          previous: start > 0 ? Buffer.from(`bank:${FAKE_BANKS[start]!.id}`).toString('base64') : null,
          perPage,
        },
      })
    }

    if (req.method === 'GET' && url.pathname === '/bank/resolve') {
      if (this.misbehave(this.modes.resolve, res)) return
      const accountNumber = url.searchParams.get('account_number') ?? ''
      const bank = FAKE_BANKS.find((b) => b.code === url.searchParams.get('bank_code'))
      const name = bank && this.accountName(bank.code, accountNumber)
      if (!bank || !name)
        return this.send(res, 422, {
          status: false,
          message: 'Could not resolve account name. Check parameters or try again.',
        })
      return this.send(res, 200, {
        status: true,
        message: 'Account number resolved',
        data: { account_number: accountNumber, account_name: name, bank_id: bank.id },
      })
    }

    if (req.method === 'POST' && url.pathname === '/transferrecipient') {
      if (this.misbehave(this.modes.createRecipient, res)) return
      const accountNumber = typeof body.account_number === 'string' ? body.account_number : ''
      const bank = FAKE_BANKS.find((b) => b.code === body.bank_code)
      const currency = typeof body.currency === 'string' ? body.currency : 'NGN'
      if (body.type !== 'nuban' || typeof body.name !== 'string' || !body.name.trim() || currency !== 'NGN')
        return this.send(res, 400, {
          status: false,
          message: 'Invalid recipient: type nuban, a name and currency NGN are required',
          type: 'validation_error',
          code: 'invalid_params',
        })
      if (!bank) return this.send(res, 400, { status: false, message: 'Invalid bank code', type: 'validation_error' })
      const accountName = this.accountName(bank.code, accountNumber)
      if (!accountName)
        return this.send(res, 400, { status: false, message: 'Cannot resolve account', type: 'validation_error' })
      // A duplicate account number gives the existing recipient back.
      const existing = [...this.recipients.values()].find(
        (r) => r.bank_code === bank.code && r.account_number === accountNumber && r.currency === currency,
      )
      const now = new Date().toISOString()
      const recipient: FakeRecipient = existing ?? {
        id: this.nextId++,
        recipient_code: `RCP_${randomBytes(8).toString('hex')}`,
        type: 'nuban',
        name: body.name,
        currency,
        account_number: accountNumber,
        account_name: accountName,
        bank_code: bank.code,
        bank_name: bank.name,
        createdAt: now,
        updatedAt: now,
      }
      this.recipients.set(recipient.recipient_code, recipient)
      return this.send(res, 201, {
        status: true,
        message: 'Transfer recipient created successfully',
        data: this.recipientData(recipient),
      })
    }

    if (req.method === 'POST' && url.pathname === '/transfer') {
      const mode = this.modes.transfer
      if (this.misbehave(mode, res)) return
      const amount = typeof body.amount === 'number' ? body.amount : Number(body.amount)
      const currency = typeof body.currency === 'string' ? body.currency : 'NGN'
      if (body.source !== 'balance')
        return this.send(res, 400, { status: false, message: 'Invalid source', type: 'validation_error' })
      if (!Number.isInteger(amount) || amount <= 0)
        return this.send(res, 400, {
          status: false,
          message: 'Invalid amount',
          type: 'validation_error',
          code: 'invalid_params',
        })
      const reference = body.reference === undefined ? `trf_${randomBytes(10).toString('hex')}` : String(body.reference)
      if (!TRANSFER_REFERENCE.test(reference))
        return this.send(res, 400, {
          status: false,
          message: 'Invalid transfer reference: 16 to 50 lowercase letters, digits, dashes and underscores are allowed',
          type: 'validation_error',
          code: 'invalid_params',
        })
      const key = String(body.recipient ?? '')
      const recipient = this.recipients.get(key) ?? [...this.recipients.values()].find((r) => String(r.id) === key)
      if (!recipient)
        return this.send(res, 400, {
          status: false,
          message: 'Recipient specified is invalid',
          type: 'validation_error',
        })
      if (currency !== recipient.currency)
        return this.send(res, 400, {
          status: false,
          message: 'Currency does not match the recipient',
          type: 'validation_error',
        })
      if (this.transfers.has(reference) || mode === 'duplicateReference')
        return this.send(res, 400, {
          status: false,
          message: 'Transfer reference already exists',
          type: 'validation_error',
          code: 'duplicate_reference',
        })
      if (mode === 'insufficientBalance' || amount > this.balance)
        return this.send(res, 400, {
          status: false,
          message: 'Your balance is not enough to fulfil this request',
          type: 'validation_error',
          code: 'insufficient_balance',
        })
      const now = new Date().toISOString()
      const transfer: FakeTransfer = {
        id: this.nextId++,
        reference,
        transfer_code: `TRF_${randomBytes(8).toString('hex')}`,
        amount,
        currency,
        reason: typeof body.reason === 'string' ? body.reason : '',
        recipient_code: recipient.recipient_code,
        status: mode === 'otp' ? 'otp' : 'pending',
        createdAt: now,
        updatedAt: now,
        transferred_at: null,
      }
      this.transfers.set(reference, transfer)
      if (mode === 'lostAnswer') {
        this.hanging.add(res)
        return
      }
      return this.send(res, 200, {
        status: true,
        message: transfer.status === 'otp' ? 'Transfer requires OTP to continue' : 'Transfer has been queued',
        data: this.transferData(transfer, false),
      })
    }

    const verifyTransfer = /^\/transfer\/verify\/(.+)$/.exec(url.pathname)
    if (req.method === 'GET' && verifyTransfer) {
      if (this.misbehave(this.modes.verifyTransfer, res)) return
      const transfer = this.transfers.get(decodeURIComponent(verifyTransfer[1]!))
      if (!transfer) return this.send(res, 404, { status: false, message: 'Transfer not found' })
      return this.send(res, 200, {
        status: true,
        message: 'Transfer retrieved',
        data: this.transferData(transfer, true),
      })
    }

    if (req.method === 'GET' && url.pathname === '/transfer') {
      if (this.misbehave(this.modes.listTransfers, res)) return
      const answer = this.page(
        [...this.transfers.values()],
        url,
        (tr) => tr.createdAt,
        (tr) => tr.status,
        'Transfers retrieved',
      )
      return this.send(res, 200, { ...answer, data: answer.data.map((tr) => this.transferData(tr, true)) })
    }

    if (req.method === 'GET' && url.pathname === '/balance') {
      if (this.misbehave(this.modes.balance, res)) return
      return this.send(res, 200, {
        status: true,
        message: 'Balances retrieved',
        data: [{ currency: 'NGN', balance: this.balance }],
      })
    }

    return this.send(res, 404, { status: false, message: 'Not found' })
  }
}
