/**
 * A fake Expo push service on loopback for tests: a real node:http server answering
 * `POST /--/api/v2/push/send` (EXPO_PUSH_URL is its full URL) as Expo documents it: up to 100
 * messages (one object or an array, gzip allowed) → `{data:[ticket per message]}`, a ticket
 * `{status:'ok', id}` or `{status:'error', message, details:{error}}`; request-level errors as
 * `{errors:[{code, message}]}`. With an access token, requests must carry it as a bearer.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** How sends are answered until the mode changes (failNext() answers come first). */
export type FakeExpoMode =
  | 'ok'
  /** 429 TOO_MANY_REQUESTS with `Retry-After: <retryAfter>`. */
  | 'rateLimited'
  /** 503. */
  | 'unavailable'
  /** 200, but each ticket is the error MessageRateExceeded. */
  | 'messageRateExceeded'
  /** Take the request and never answer. */
  | 'hang'

/** One message Expo accepted, with the id of its ticket. */
export type FakeExpoMessage = {
  ticketId: string
  to: string
  title?: string
  body?: string
  data?: Record<string, unknown>
  badge?: number
  collapseId?: string
  ttl?: number
  priority?: string
  sound?: unknown
  _contentAvailable?: boolean
  [field: string]: unknown
}

export type FakeExpoCall = { status: number; messages: number; authorization: string | undefined; reason?: string }

type Json = Record<string, unknown>

const EXPO_TOKEN = /^Expo(nent)?PushToken\[[^\]]+\]$/

export class FakeExpo {
  readonly messages: FakeExpoMessage[] = []
  readonly calls: FakeExpoCall[] = []
  mode: FakeExpoMode = 'ok'
  /** `Retry-After` of 429 answers (seconds, or an HTTP date). */
  retryAfter = '3'
  private readonly unregistered = new Set<string>()
  private readonly failures: Exclude<FakeExpoMode, 'ok'>[] = []
  private readonly hanging = new Set<ServerResponse>()

  private constructor(
    readonly server: Server,
    readonly url: string,
    /** When set, every request must carry `Authorization: Bearer <accessToken>` (Expo's enhanced security). */
    readonly accessToken: string | undefined,
  ) {}

  static async start(opts: { accessToken?: string } = {}): Promise<FakeExpo> {
    const holder: { fake?: FakeExpo } = {}
    const server = createServer((req, res) => void holder.fake!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    holder.fake = new FakeExpo(server, `http://127.0.0.1:${port}`, opts.accessToken)
    return holder.fake
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  /** EXPO_PUSH_URL. */
  get pushUrl(): string {
    return `${this.url}/--/api/v2/push/send`
  }

  /** A well-formed Expo push token, new each time. */
  newToken(): string {
    return `ExponentPushToken[${randomUUID().replace(/-/g, '').slice(0, 22)}]`
  }

  /** The app was uninstalled: this token's tickets are the error DeviceNotRegistered. */
  unregister(token: string): void {
    this.unregistered.add(token)
  }

  /** The next `n` requests are answered as `mode` would, then as before. */
  failNext(n: number, mode: Exclude<FakeExpoMode, 'ok'>): void {
    for (let i = 0; i < n; i++) this.failures.push(mode)
  }

  messagesFor(token: string): FakeExpoMessage[] {
    return this.messages.filter((m) => m.to === token)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    let raw = Buffer.concat(chunks)
    const authorization = req.headers.authorization
    let count = 0
    const send = (status: number, body: Json, headers: Record<string, string> = {}, reason?: string) => {
      this.calls.push({ status, messages: count, authorization, ...(reason ? { reason } : {}) })
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
      res.end(JSON.stringify(body))
    }
    const requestError = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      send(status, { errors: [{ code, message }] }, headers, code)

    if (req.method !== 'POST' || req.url !== '/--/api/v2/push/send')
      return requestError(404, 'NOT_FOUND', `${req.method} ${req.url} is not an Expo push endpoint`)
    if (this.accessToken !== undefined && authorization !== `Bearer ${this.accessToken}`)
      return requestError(401, 'UNAUTHORIZED', 'The bearer token is invalid or missing (enhanced push security is on)')

    const mode = this.failures.shift() ?? this.mode
    if (mode === 'hang') {
      this.hanging.add(res)
      return
    }
    if (mode === 'rateLimited')
      return requestError(429, 'TOO_MANY_REQUESTS', 'Too many requests', { 'retry-after': this.retryAfter })
    if (mode === 'unavailable') return requestError(503, 'SERVICE_UNAVAILABLE', 'The service is unavailable')

    let parsed: unknown
    try {
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw)
      parsed = JSON.parse(raw.toString('utf8'))
    } catch {
      return requestError(400, 'VALIDATION_ERROR', 'The request body is not JSON')
    }
    const list = (Array.isArray(parsed) ? parsed : [parsed]) as Json[]
    count = list.length
    if (list.length > 100)
      return requestError(
        400,
        'PUSH_TOO_MANY_NOTIFICATIONS',
        'You are trying to send more than 100 push notifications in one request.',
      )
    for (const message of list) {
      if (!message || typeof message !== 'object' || typeof message.to !== 'string' || !EXPO_TOKEN.test(message.to))
        return requestError(400, 'VALIDATION_ERROR', '"to" must be an Expo push token')
      if (message.data !== undefined && (typeof message.data !== 'object' || Array.isArray(message.data)))
        return requestError(400, 'VALIDATION_ERROR', '"data" must be an object')
    }

    const tickets = list.map((message): Json => {
      const to = message.to as string
      if (mode === 'messageRateExceeded')
        return {
          status: 'error',
          message: `"${to}" is receiving too many messages`,
          details: { error: 'MessageRateExceeded', expoPushToken: to },
        }
      if (this.unregistered.has(to))
        return {
          status: 'error',
          message: `"${to}" is not a registered push notification recipient`,
          details: { error: 'DeviceNotRegistered', expoPushToken: to },
        }
      const size = Buffer.byteLength(JSON.stringify(message))
      if (size > 4096)
        return {
          status: 'error',
          message: `Message of ${size} bytes is over the 4096-byte limit`,
          details: { error: 'MessageTooBig' },
        }
      const ticketId = randomUUID()
      this.messages.push({ ...(message as FakeExpoMessage), ticketId, to })
      return { status: 'ok', id: ticketId }
    })
    send(200, { data: tickets })
  }
}
