import type Paystack from 'paystack-sdk'

/*
 * The Paystack gateway: the only code that talks to Paystack. A small typed client for the
 * calls we need, reusing paystack-sdk's types: the SDK itself hard-codes its origin, takes no
 * timeout and does not URL-encode the reference in verify (docs/architecture.md, Paystack client).
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

/** Filters of Paystack's list endpoints (`GET /transaction`, `GET /refund`): dates are ISO-8601. */
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

  return {
    initialize: (input) => call<TransactionInitialized>('POST', '/transaction/initialize', input),
    verify: (reference) => call<PaystackTransaction>('GET', `/transaction/verify/${encodeURIComponent(reference)}`),
    refund: (input) => call<PaystackRefund>('POST', '/refund', input),
    listRefunds: (transactionId) =>
      call<PaystackRefund[]>('GET', `/refund?transaction=${encodeURIComponent(String(transactionId))}`),
    listTransactions: (query) => list<PaystackTransaction>('/transaction', query),
    listRefundsBetween: (query) => list<PaystackRefund>('/refund', query),
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
