/**
 * A fake Firebase Cloud Messaging (HTTP v1) and Google OAuth token endpoint on loopback for
 * tests: a real node:http server. It makes its own service account (an RSA key pair, a
 * client_email, a project_id, a token_uri pointing here) for FCM_SERVICE_ACCOUNT; trades a
 * signed JWT for a bearer as Google does (RS256 verified with the account's public key, `iss`,
 * the firebase.messaging `scope`, `aud`, `iat`/`exp`), and takes `messages:send` only with a
 * bearer it issued and has not revoked. Answers and error bodies follow FCM's documentation.
 */
import { generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export const GOOGLE_TOKEN_AUDIENCE = 'https://oauth2.googleapis.com/token'
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging'

/** How `messages:send` answers, until the mode changes (failNext() answers come first). */
export type FakeFcmMode =
  | 'ok'
  /** 429 RESOURCE_EXHAUSTED / QUOTA_EXCEEDED with `Retry-After: <retryAfter>`. */
  | 'quotaExceeded'
  /** 503 UNAVAILABLE with `Retry-After: <retryAfter>`. */
  | 'unavailable'
  /** 500 INTERNAL. */
  | 'internal'
  /** 400 INVALID_ARGUMENT about the message (not the token). */
  | 'invalidArgument'
  /** 400 INVALID_ARGUMENT "The registration token is not a valid FCM registration token". */
  | 'invalidToken'
  /** 403 PERMISSION_DENIED / SENDER_ID_MISMATCH. */
  | 'senderIdMismatch'
  /** Take the request and never answer. */
  | 'hang'

/** How the token URL answers. */
export type FakeTokenMode =
  | 'ok'
  /** 400 `invalid_grant` (a revoked key, a deleted account). */
  | 'invalidGrant'
  /** 503 with `Retry-After: <retryAfter>`. */
  | 'unavailable'
  | 'hang'

/** The key file Google gives for a service account (the fields a client reads). */
export type FakeServiceAccount = {
  type: 'service_account'
  project_id: string
  private_key_id: string
  private_key: string
  client_email: string
  client_id: string
  token_uri: string
}

/** One message FCM accepted. */
export type FakeFcmMessage = { name: string; token: string; message: FcmMessageBody }

/** The `message` of a send, as posted. */
export type FcmMessageBody = {
  token?: string
  notification?: { title?: string; body?: string }
  data?: Record<string, string>
  android?: { collapse_key?: string; priority?: string; ttl?: string }
  apns?: { headers?: Record<string, string>; payload?: { aps?: Record<string, unknown> } }
  [field: string]: unknown
}

export type FakeFcmCall = { path: string; status: number; reason?: string }

type Json = Record<string, unknown>

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError'

export class FakeFcm {
  readonly messages: FakeFcmMessage[] = []
  readonly calls: FakeFcmCall[] = []
  /** Successful token exchanges (bearers issued). */
  tokenExchanges = 0
  /** Refused token exchanges, with why. */
  readonly refusedExchanges: string[] = []
  mode: FakeFcmMode = 'ok'
  tokenMode: FakeTokenMode = 'ok'
  /** `Retry-After` of 429 and 503 answers (seconds, or an HTTP date). */
  retryAfter = '11'
  /** `expires_in` of the bearers issued. */
  accessTokenTtlSeconds = 3599
  readonly serviceAccount: FakeServiceAccount
  private readonly publicKey: KeyObject
  private readonly bearers = new Map<string, number>()
  private readonly unregistered = new Set<string>()
  private readonly failures: FakeFcmMode[] = []
  private readonly hanging = new Set<ServerResponse>()
  private nextMessage = 1

  private constructor(
    readonly server: Server,
    /** FCM_BASE_URL. */
    readonly url: string,
    readonly projectId: string,
  ) {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    this.publicKey = publicKey
    this.serviceAccount = {
      type: 'service_account',
      project_id: projectId,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      client_email: `firebase-adminsdk-fake@${projectId}.iam.gserviceaccount.com`,
      client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(4).readUInt32BE())),
      token_uri: this.tokenUrl,
    }
  }

  static async start(opts: { projectId?: string } = {}): Promise<FakeFcm> {
    const holder: { fake?: FakeFcm } = {}
    const server = createServer((req, res) => void holder.fake!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    holder.fake = new FakeFcm(server, `http://127.0.0.1:${port}`, opts.projectId ?? 'oja-fake')
    return holder.fake
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  /** GOOGLE_TOKEN_URL (also the service account's `token_uri`). */
  get tokenUrl(): string {
    return `${this.url}/token`
  }

  /** FCM_SERVICE_ACCOUNT: the key file as JSON text. */
  get serviceAccountJson(): string {
    return JSON.stringify(this.serviceAccount)
  }

  /** The app was uninstalled: sends to this token answer 404 UNREGISTERED. */
  unregister(token: string): void {
    this.unregistered.add(token)
  }

  /** Every bearer issued so far stops working (sends answer 401 UNAUTHENTICATED). */
  revokeAccessTokens(): void {
    this.bearers.clear()
  }

  /** The next `n` sends are answered as `mode` would, then as before. */
  failNext(n: number, mode: Exclude<FakeFcmMode, 'ok'>): void {
    for (let i = 0; i < n; i++) this.failures.push(mode)
  }

  messagesFor(token: string): FakeFcmMessage[] {
    return this.messages.filter((m) => m.token === token)
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const text = Buffer.concat(chunks).toString('utf8')
    const path = (req.url ?? '').split('?')[0]!
    const send = (status: number, body: Json, headers: Record<string, string> = {}, reason?: string) => {
      this.calls.push({ path, status, ...(reason ? { reason } : {}) })
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'POST' && path === '/token') return this.exchange(req, res, text, send)
    const m = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path)
    if (req.method === 'POST' && m) return this.messagesSend(req, res, decodeURIComponent(m[1]!), text, send)
    return send(404, fcmError(404, 'NOT_FOUND', 'Requested entity was not found.'))
  }

  /** The OAuth 2.0 JWT-bearer grant (RFC 7523) as Google's token URL serves it. */
  private exchange(
    req: IncomingMessage,
    res: ServerResponse,
    text: string,
    send: (status: number, body: Json, headers?: Record<string, string>, reason?: string) => void,
  ): void {
    const refuse = (error: string, description: string) => {
      this.refusedExchanges.push(description)
      send(400, { error, error_description: description }, {}, description)
    }
    if (this.tokenMode === 'hang') {
      this.hanging.add(res)
      return
    }
    if (this.tokenMode === 'unavailable') {
      this.calls.push({ path: '/token', status: 503, reason: 'tokenMode unavailable' })
      res.writeHead(503, { 'content-type': 'text/html; charset=UTF-8', 'retry-after': this.retryAfter })
      res.end('<!DOCTYPE html><title>Error 503 (Service Unavailable)</title>')
      return
    }
    if (this.tokenMode === 'invalidGrant') return refuse('invalid_grant', 'Invalid grant: account not found')
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? ''))
      return refuse('invalid_request', 'Content-Type must be application/x-www-form-urlencoded')
    const form = new URLSearchParams(text)
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return refuse('unsupported_grant_type', 'Invalid grant_type: ' + String(form.get('grant_type')))
    const problem = this.checkAssertion(form.get('assertion') ?? '')
    if (problem) return refuse('invalid_grant', problem)
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`
    this.bearers.set(accessToken, Date.now() + this.accessTokenTtlSeconds * 1000)
    this.tokenExchanges++
    send(200, { access_token: accessToken, expires_in: this.accessTokenTtlSeconds, token_type: 'Bearer' })
  }

  /** Why Google would refuse this assertion, or undefined when it is good. */
  private checkAssertion(assertion: string): string | undefined {
    const [h, p, s] = assertion.split('.')
    if (!h || !p || !s) return 'Invalid JWT: malformed'
    let header: { alg?: unknown; kid?: unknown }
    let claims: { iss?: unknown; scope?: unknown; aud?: unknown; iat?: unknown; exp?: unknown }
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString()) as typeof header
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof claims
    } catch {
      return 'Invalid JWT: not JSON'
    }
    if (header.alg !== 'RS256') return 'Invalid JWT: alg must be RS256'
    if (header.kid !== undefined && header.kid !== this.serviceAccount.private_key_id) return 'Invalid JWT: unknown kid'
    if (!verify('sha256', Buffer.from(`${h}.${p}`), this.publicKey, Buffer.from(s, 'base64url')))
      return 'Invalid JWT Signature.'
    if (claims.iss !== this.serviceAccount.client_email) return `Invalid JWT: iss ${String(claims.iss)}`
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE && claims.aud !== this.tokenUrl)
      return `Invalid JWT: aud ${String(claims.aud)}`
    if (typeof claims.scope !== 'string' || !claims.scope.split(' ').includes(FCM_SCOPE))
      return `Invalid JWT: scope ${String(claims.scope)} lacks ${FCM_SCOPE}`
    const now = Math.floor(Date.now() / 1000)
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return 'Invalid JWT: iat and exp required'
    if (claims.iat > now + 60 || claims.exp <= now)
      return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.'
    if (claims.exp - claims.iat > 3600) return 'Invalid JWT: exp more than an hour after iat'
    return undefined
  }

  private messagesSend(
    req: IncomingMessage,
    res: ServerResponse,
    project: string,
    text: string,
    send: (status: number, body: Json, headers?: Record<string, string>, reason?: string) => void,
  ): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const expires = bearer ? this.bearers.get(bearer) : undefined
    if (expires === undefined || expires <= Date.now())
      return send(
        401,
        fcmError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
        ),
        { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
        'bearer',
      )
    if (project !== this.projectId)
      return send(
        403,
        fcmError(
          403,
          'PERMISSION_DENIED',
          `Permission 'cloudmessaging.messages.create' denied on resource '${project}'`,
        ),
      )

    const mode = this.failures.shift() ?? this.mode
    switch (mode) {
      case 'hang':
        this.hanging.add(res)
        return
      case 'quotaExceeded':
        return send(
          429,
          fcmError(429, 'RESOURCE_EXHAUSTED', 'Quota exceeded for quota metric.', 'QUOTA_EXCEEDED'),
          { 'retry-after': this.retryAfter },
          mode,
        )
      case 'unavailable':
        return send(
          503,
          fcmError(503, 'UNAVAILABLE', 'The service is currently unavailable.', 'UNAVAILABLE'),
          { 'retry-after': this.retryAfter },
          mode,
        )
      case 'internal':
        return send(500, fcmError(500, 'INTERNAL', 'Internal error encountered.', 'INTERNAL'), {}, mode)
      case 'invalidArgument':
        return send(400, invalidArgument('message.android.ttl', 'Invalid value at message.android.ttl'), {}, mode)
      case 'invalidToken':
        return send(
          400,
          fcmError(
            400,
            'INVALID_ARGUMENT',
            'The registration token is not a valid FCM registration token',
            'INVALID_ARGUMENT',
          ),
          {},
          mode,
        )
      case 'senderIdMismatch':
        return send(403, fcmError(403, 'PERMISSION_DENIED', 'SenderId mismatch', 'SENDER_ID_MISMATCH'), {}, mode)
      case 'ok':
        break
    }

    let body: { message?: FcmMessageBody; validate_only?: unknown }
    try {
      body = JSON.parse(text) as typeof body
    } catch {
      return send(400, fcmError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'), {}, 'json')
    }
    const message = body.message
    if (!message || typeof message !== 'object')
      return send(400, invalidArgument('message', 'message is required'), {}, 'message')
    const problem = checkMessage(message)
    if (problem) return send(400, invalidArgument(problem.field, problem.description), {}, problem.description)
    const token = message.token!
    if (this.unregistered.has(token))
      return send(
        404,
        fcmError(404, 'NOT_FOUND', 'Requested entity was not found.', 'UNREGISTERED'),
        {},
        'unregistered',
      )
    const name = `projects/${this.projectId}/messages/0:${Date.now()}%${(this.nextMessage++).toString(16)}`
    this.messages.push({ name, token, message })
    send(200, { name })
  }
}

/** Google's error body, with FCM's own error code in `details` when there is one. */
function fcmError(code: number, status: string, message: string, errorCode?: string): Json {
  return {
    error: {
      code,
      message,
      status,
      ...(errorCode ? { details: [{ '@type': FCM_ERROR_TYPE, errorCode }] } : {}),
    },
  }
}

function invalidArgument(field: string, description: string): Json {
  const body = fcmError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.', 'INVALID_ARGUMENT') as {
    error: { details: Json[] }
  }
  body.error.details.push({
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: [{ field, description }],
  })
  return body
}

/** What FCM would refuse in a message to a token (the parts Oja sends), or undefined. */
function checkMessage(message: FcmMessageBody): { field: string; description: string } | undefined {
  const targets = ['token', 'topic', 'condition'].filter((t) => message[t] !== undefined)
  if (targets.length !== 1 || typeof message.token !== 'string' || message.token === '')
    return { field: 'message.token', description: 'exactly one target, a registration token, is required' }
  if (message.data !== undefined) {
    if (typeof message.data !== 'object' || message.data === null)
      return { field: 'message.data', description: 'data must be a map' }
    for (const [key, value] of Object.entries(message.data)) {
      if (typeof value !== 'string')
        return { field: `message.data[${key}].value`, description: `Invalid value (TYPE_STRING), ${String(value)}` }
      if (key === 'from' || key.startsWith('google.') || key.startsWith('gcm.'))
        return { field: `message.data[${key}]`, description: 'reserved key' }
    }
  }
  const n = message.notification
  if (n !== undefined && (typeof n !== 'object' || (n.title !== undefined && typeof n.title !== 'string')))
    return { field: 'message.notification', description: 'title and body must be strings' }
  const android = message.android
  if (android?.priority !== undefined && !['normal', 'high'].includes(String(android.priority).toLowerCase()))
    return { field: 'message.android.priority', description: `Invalid value ${String(android.priority)}` }
  if (android?.ttl !== undefined && !/^\d+(\.\d{1,9})?s$/.test(String(android.ttl)))
    return { field: 'message.android.ttl', description: 'Invalid duration' }
  for (const [key, value] of Object.entries(message.apns?.headers ?? {}))
    if (typeof value !== 'string') return { field: `message.apns.headers[${key}]`, description: 'must be a string' }
  const size = Buffer.byteLength(JSON.stringify({ notification: n ?? {}, data: message.data ?? {} }))
  if (size > 4096) return { field: 'message', description: `Message is too big (${size} bytes)` }
  return undefined
}
