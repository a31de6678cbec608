import type Paystack from 'paystack-sdk'

/*
 * The Paystack gateway: the only code that talks to Paystack. A small typed client for the
 * calls we need (charges, refunds, and transfers for seller payouts), reusing paystack-sdk's
 * types: the SDK itself hard-codes its origin, takes no timeout and does not URL-encode the
 * reference in verify (docs/architecture.md, Paystack client).
 */

type VerifyAnswer = Awaited<ReturnType<Paystack['transaction']['verify']>>
type RefundAnswer = Awaited<ReturnType<Paystack['refund']['create']>>

/** `POST /transaction/initialize` body (paystack-sdk's InitializeTransaction). */
export type InitializeTransaction = Parameters<Paystack['transaction']['initialize']>[0]
/** `data` of a successful initialize. */
export type TransactionInitialized = Extract<
  Awaited<ReturnType<Paystack['transaction']['initialize']>>,
  { data: { access_code: string } }
>['data']
/** `data` of `GET /transaction/verify/:reference` (paystack-sdk's Transaction). */
export type PaystackTransaction = Extract<VerifyAnswer, { data: { reference: string } }>['data']
/** `POST /refund` body (paystack-sdk's CreateRefund). */
export type CreateRefund = Parameters<Paystack['refund']['create']>[0]
/** A refund as Paystack describes it (paystack-sdk's Refund). */
export type PaystackRefund = Extract<RefundAnswer, { data: { deducted_amount: number } }>['data']

/** JSON carries dates as ISO strings, where paystack-sdk says `Date`. */
type JsonDates<T, K extends keyof T> = Omit<T, K> & { [P in K]: string }

type BanksAnswer = Awaited<ReturnType<Paystack['misc']['banks']>>
type ResolveAnswer = Awaited<ReturnType<Paystack['verification']['resolveAccount']>>
type RecipientAnswer = Awaited<ReturnType<Paystack['recipient']['create']>>
type TransferAnswer = Awaited<ReturnType<Paystack['transfer']['verify']>>
type BalanceAnswer = Awaited<ReturnType<Paystack['transfer']['control']['balance']>>

/** A bank of `GET /bank` (paystack-sdk's Bank). */
export type PaystackBank = JsonDates<
  Extract<BanksAnswer, { data: { code: string }[] }>['data'][number],
  'createdAt' | 'updatedAt'
>
/** `data` of `GET /bank/resolve`: the name the bank holds for the account. */
export type ResolvedAccount = Extract<ResolveAnswer, { data: { account_name: string } }>['data'] & { bank_id?: number }
/** A transfer recipient (paystack-sdk's Recipient): `recipient_code` is what a transfer names. */
export type PaystackRecipient = JsonDates<
  Extract<RecipientAnswer, { data: { recipient_code: string } }>['data'],
  'createdAt' | 'updatedAt'
>
/**
 * A transfer's state. `pending`: queued (OTP disabled, the normal case); `otp`: waiting for an
 * OTP (the money has not left); `success`, `failed`, `reversed` (money back on the balance
 * after a success), `abandoned`; Paystack also documents `received`, `blocked` and `rejected`.
 */
export type PaystackTransferStatus =
  'pending' | 'otp' | 'success' | 'failed' | 'reversed' | 'abandoned' | 'received' | 'blocked' | 'rejected'
/**
 * A transfer (paystack-sdk's Transfer, plus the `reference` and `currency` Paystack sends).
 * `recipient` is the recipient's id when a transfer is created and the recipient itself when
 * it is verified, listed or sent by webhook.
 */
export type PaystackTransfer = Omit<
  JsonDates<Extract<TransferAnswer, { data: { transfer_code: string } }>['data'], 'createdAt' | 'updatedAt'>,
  'status' | 'recipient'
> & {
  reference: string
  currency: string
  status: PaystackTransferStatus
  recipient: number | string | PaystackRecipient
  transferred_at?: string | null
}
/** One currency of `GET /balance`, in minor units. */
export type PaystackBalance = Extract<BalanceAnswer, { data: unknown[] }>['data'][number]

/** `POST /transferrecipient` for a Nigerian bank account. */
export type CreateRecipientInput = { name: string; accountNumber: string; bankCode: string; currency?: string }
/** `POST /transfer` from the balance. `reference` is ours: see TRANSFER_REFERENCE. */
export type TransferInput = { amount: number; recipient: string; reference: string; reason: string; currency?: string }

/** What Paystack accepts as a transfer reference: lowercase letters, digits, `-` and `_`, 16 to 50 of them. */
export const TRANSFER_REFERENCE = /^[a-z0-9_-]{16,50}$/

/**
 * A failed call. `unavailable`: no answer, a timeout, 5xx or 429 — the outcome is unknown or
 * worth retrying. `rejected`: Paystack answered and said no (4xx or `status:false`).
 */
export class PaystackError extends Error {
  constructor(
    readonly kind: 'unavailable' | 'rejected',
    message: string,
    readonly httpStatus?: number,
    readonly providerCode?: string,
  ) {
    super(message)
    this.name = 'PaystackError'
  }
}

/** The subset of `fetch` the client needs; the simulator passes an in-process one. */
export type Transport = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>

export type PaystackClientOptions = { secretKey: string; baseUrl: string; timeoutMs: number; transport?: Transport }

/** Filters of Paystack's list endpoints (`GET /transaction`, `GET /refund`, `GET /transfer`): dates are ISO-8601. */
export type ListQuery = {
  from?: string
  to?: string
  status?: string
  perPage?: number
  page?: number
}

/** `meta` of a Paystack list: where this page is in the whole. */
export type ListMeta = { total?: number; perPage?: number; page?: number; pageCount?: number }

/** One page of a Paystack list. */
export type ListPage<T> = { data: T[]; meta: ListMeta }

export type PaymentGateway = {
  initialize(input: InitializeTransaction): Promise<TransactionInitialized>
  verify(reference: string): Promise<PaystackTransaction>
  refund(input: CreateRefund): Promise<PaystackRefund>
  /** Refunds of one transaction (by Paystack transaction id), to adopt one sent before a lost answer. */
  listRefunds(transactionId: number): Promise<PaystackRefund[]>
  /** `GET /transaction`: one page of the integration's transactions (reconciliation). */
  listTransactions(query: ListQuery): Promise<ListPage<PaystackTransaction>>
  /** `GET /refund` over a period: one page of the integration's refunds (reconciliation). */
  listRefundsBetween(query: ListQuery): Promise<ListPage<PaystackRefund>>
  /** `GET /bank?country=nigeria`: every Nigerian bank, following the `meta.next` cursor to the end. */
  listBanks(): Promise<PaystackBank[]>
  /** `GET /bank/resolve`: the account's name at the bank; an unknown account is `rejected` (HTTP 422). */
  resolveAccount(accountNumber: string, bankCode: string): Promise<ResolvedAccount>
  /** `POST /transferrecipient` (type `nuban`): the same account twice gives the same `recipient_code`. */
  createRecipient(input: CreateRecipientInput): Promise<PaystackRecipient>
  /**
   * `POST /transfer` from the balance. A reference Paystack already holds is refused
   * (isDuplicateTransferReference), a balance too small too (isInsufficientBalance); an
   * `unavailable` error leaves the outcome unknown: ask verifyTransfer(reference).
   */
  transfer(input: TransferInput): Promise<PaystackTransfer>
  /** `GET /transfer/verify/:reference`; an unknown reference is `rejected` (HTTP 404). */
  verifyTransfer(reference: string): Promise<PaystackTransfer>
  /** `GET /transfer`: one page of the integration's transfers (reconciliation). */
  listTransfers(query: ListQuery): Promise<ListPage<PaystackTransfer>>
  /** `GET /balance`: what the integration holds, per currency, in minor units. */
  balance(): Promise<PaystackBalance[]>
}

/** Paystack refused a transfer because the balance cannot pay it. */
export function isInsufficientBalance(err: unknown): boolean {
  return (
    err instanceof PaystackError &&
    err.kind === 'rejected' &&
    (err.providerCode === 'insufficient_balance' || /balance is not enough|insufficient balance/i.test(err.message))
  )
}

/** Paystack refused a transfer because it already holds one with that reference (none was made now). */
export function isDuplicateTransferReference(err: unknown): boolean {
  return (
    err instanceof PaystackError &&
    err.kind === 'rejected' &&
    (err.providerCode === 'duplicate_reference' ||
      (/reference/i.test(err.message) && /duplicate|already exists|already been used/i.test(err.message)))
  )
}

/** A list query as Paystack's query string. */
export function listQueryString(query: ListQuery): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
  const qs = params.toString()
  return qs ? `?${qs}` : ''
}

type Envelope = { status?: unknown; message?: unknown; code?: unknown; data?: unknown; meta?: unknown }

/** A typed Paystack client honouring PAYSTACK_BASE_URL and PAYSTACK_TIMEOUT_MS. */
export function createPaystackClient(opts: PaystackClientOptions): PaymentGateway {
  const base = opts.baseUrl.replace(/\/+$/, '')
  const transport: Transport = opts.transport ?? ((url, init) => fetch(url, init))

  /** One call; answers Paystack's `data` (and its `meta`, for lists). */
  async function send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Envelope & { data: unknown }> {
    let status: number
    let text: string
    try {
      const res = await transport(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${opts.secretKey}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(opts.timeoutMs),
      })
      status = res.status
      text = await res.text()
    } catch (err) {
      const name = (err as Error).name
      throw new PaystackError(
        'unavailable',
        name === 'TimeoutError' || name === 'AbortError'
          ? `Paystack did not answer within ${opts.timeoutMs} ms`
          : `Paystack unreachable: ${(err as Error).message}`,
      )
    }
    let parsed: Envelope | undefined
    try {
      parsed = JSON.parse(text) as Envelope
    } catch {
      parsed = undefined
    }
    const message = typeof parsed?.message === 'string' ? parsed.message : `HTTP ${status}`
    const code = typeof parsed?.code === 'string' ? parsed.code : undefined
    if (status >= 500 || status === 429) throw new PaystackError('unavailable', message, status, code)
    if (!parsed || typeof parsed !== 'object')
      throw new PaystackError(
        status >= 400 ? 'rejected' : 'unavailable',
        'Paystack answered with something that is not JSON',
        status,
      )
    // Paystack says no both with HTTP codes and with {status:false}; both count.
    if (status >= 400 || parsed.status !== true) throw new PaystackError('rejected', message, status, code)
    if (parsed.data === undefined || parsed.data === null)
      throw new PaystackError('rejected', 'Paystack answered without data', status, code)
    return parsed as Envelope & { data: unknown }
  }

  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    return (await send(method, path, body)).data as T
  }

  async function list<T>(path: string, query: ListQuery): Promise<ListPage<T>> {
    const answer = await send('GET', `${path}${listQueryString(query)}`)
    if (!Array.isArray(answer.data)) throw new PaystackError('rejected', 'Paystack answered a list without a list')
    const meta = answer.meta && typeof answer.meta === 'object' ? (answer.meta as ListMeta) : {}
    return { data: answer.data as T[], meta }
  }

  /** `GET /bank` with cursor pagination: page after page until `meta.next` is empty. */
  async function listBanks(): Promise<PaystackBank[]> {
    const banks: PaystackBank[] = []
    const seen = new Set<string>()
    let next: string | undefined
    for (;;) {
      const params = new URLSearchParams({ country: 'nigeria', use_cursor: 'true', perPage: '100' })
      if (next) params.set('next', next)
      const answer = await send('GET', `/bank?${params.toString()}`)
      if (!Array.isArray(answer.data)) throw new PaystackError('rejected', 'Paystack answered a list without a list')
      banks.push(...(answer.data as PaystackBank[]))
      const meta = answer.meta && typeof answer.meta === 'object' ? (answer.meta as { next?: unknown }) : {}
      next = typeof meta.next === 'string' && meta.next !== '' ? meta.next : undefined
      if (!next || answer.data.length === 0) return banks
      // A cursor that comes back would loop for ever.
      if (seen.has(next)) throw new PaystackError('rejected', 'Paystack answered the same bank cursor twice')
      seen.add(next)
    }
  }

  return {
    initialize: (input) => call<TransactionInitialized>('POST', '/transaction/initialize', input),
    verify: (reference) => call<PaystackTransaction>('GET', `/transaction/verify/${encodeURIComponent(reference)}`),
    refund: (input) => call<PaystackRefund>('POST', '/refund', input),
    listRefunds: (transactionId) =>
      call<PaystackRefund[]>('GET', `/refund?transaction=${encodeURIComponent(String(transactionId))}`),
    listTransactions: (query) => list<PaystackTransaction>('/transaction', query),
    listRefundsBetween: (query) => list<PaystackRefund>('/refund', query),
    listBanks,
    resolveAccount: (accountNumber, bankCode) =>
      call<ResolvedAccount>(
        'GET',
        `/bank/resolve?${new URLSearchParams({ account_number: accountNumber, bank_code: bankCode }).toString()}`,
      ),
    createRecipient: (input) =>
      call<PaystackRecipient>('POST', '/transferrecipient', {
        type: 'nuban',
        name: input.name,
        account_number: input.accountNumber,
        bank_code: input.bankCode,
        currency: input.currency ?? 'NGN',
      }),
    transfer: (input) =>
      call<PaystackTransfer>('POST', '/transfer', {
        source: 'balance',
        amount: input.amount,
        recipient: input.recipient,
        reference: input.reference,
        reason: input.reason,
        currency: input.currency ?? 'NGN',
      }),
    verifyTransfer: (reference) => call<PaystackTransfer>('GET', `/transfer/verify/${encodeURIComponent(reference)}`),
    listTransfers: (query) => list<PaystackTransfer>('/transfer', query),
    balance: async () => {
      const data = await call<unknown>('GET', '/balance')
      if (!Array.isArray(data)) throw new PaystackError('rejected', 'Paystack answered a balance without a list')
      return data as PaystackBalance[]
    },
  }
}

/** A Paystack amount, which may arrive as a number or a numeric string, in minor units. */
export function amountOf(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d+$/.test(value.trim())
        ? Number(value.trim())
        : NaN
  return Number.isSafeInteger(n) ? n : undefined
}
