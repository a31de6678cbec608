/**
 * A fake Paystack on loopback for tests: a real node:http server answering the documented
 * paths with the documented payloads (Paystack's API reference), and switches to misbehave.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

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
  /** refund: do the work, then never answer (an answer lost to a timeout). */
  | 'lostAnswer'

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

export class FakePaystack {
  readonly transactions = new Map<string, FakeTransaction>()
  readonly refunds: FakeRefund[] = []
  readonly calls: FakeCall[] = []
  modes: {
    initialize: FakeMode
    verify: FakeMode
    refund: FakeMode
    listRefunds: FakeMode
    listTransactions: FakeMode
  } = {
    initialize: 'ok',
    verify: 'ok',
    refund: 'ok',
    listRefunds: 'ok',
    listTransactions: 'ok',
  }
  private nextId = 3_000_000_000
  private readonly hanging = new Set<ServerResponse>()

  private constructor(
    readonly server: Server,
    readonly url: string,
    readonly secretKey: string,
  ) {}

  static async start(secretKey = `sk_test_${randomBytes(12).toString('hex')}`): Promise<FakePaystack> {
    const holder: { fake?: FakePaystack } = {}
    const server = createServer((req, res) => void holder.fake!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    holder.fake = new FakePaystack(server, `http://127.0.0.1:${port}`, secretKey)
    return holder.fake
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
  webhook(event: string, data: unknown): { payload: string; headers: Record<string, string> } {
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
      fees: 0,
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

    return this.send(res, 404, { status: false, message: 'Not found' })
  }
}
