/**
 * A fake Web Push service on loopback for tests: a real node:http server that takes pushes as a
 * browser's push service does (RFC 8030), checks the VAPID `Authorization` (RFC 8292: an ES256
 * JWT verified with the `k` it names, `aud` this service's origin, `exp` in the future and at most
 * 24 hours away, a mailto:/https: `sub`) and decrypts the aes128gcm payload (RFC 8188 + RFC 8291)
 * with the subscription's own private key, as the browser would.
 *
 * Subscriptions are offline until `setOnline()`: pushes queue, and a push whose `Topic` matches a
 * queued one replaces it; deliveredFor() is what the browser shows once it connects.
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify } from 'node:crypto'
import type { ECDH } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** How every push is answered until the mode changes (failNext() answers come first). */
export type FakeWebPushMode =
  | 'ok'
  /** 410 Gone: the subscription expired or the user unsubscribed. */
  | 'gone'
  /** 404 Not Found. */
  | 'notFound'
  /** 413 Payload Too Large. */
  | 'tooBig'
  /** 429 with `Retry-After: <retryAfter>`. */
  | 'rateLimited'
  /** 503 with `Retry-After: <retryAfter>`. */
  | 'unavailable'
  /** Take the request and never answer. */
  | 'hang'

/** A subscription as the browser hands it to the app (PushSubscription.toJSON()) plus the fake's id. */
export type FakeSubscriptionJson = { id: string; endpoint: string; keys: { p256dh: string; auth: string } }

/** One push the service accepted, decrypted. */
export type FakePush = {
  subscriptionId: string
  /** The decrypted payload, parsed as JSON (the raw text when it is not JSON). */
  payload: unknown
  topic: string | undefined
  ttl: number
  urgency: string | undefined
  /** The VAPID claims and key the sender identified itself with. */
  vapid: { subject: string; publicKey: string }
  /** The plaintext size in bytes and the encrypted body's. */
  plaintextBytes: number
  bodyBytes: number
  /** The `Location` the service answered (the push message resource). */
  location: string
}

/** Every request, whatever became of it. */
export type FakeWebPushCall = { subscriptionId: string; status: number; reason?: string }

type Subscription = {
  id: string
  endpoint: string
  ecdh: ECDH
  auth: Buffer
  /** The VAPID public key the subscription was made with (`applicationServerKey`), if any. */
  applicationServerKey: string | undefined
  gone: boolean
  online: boolean
  delivered: FakePush[]
  queued: FakePush[]
}

const MAX_BODY = 4096
const BASE64URL = /^[A-Za-z0-9_-]+$/

export class FakeWebPush {
  /** Every push accepted, in order of arrival. */
  readonly pushes: FakePush[] = []
  readonly calls: FakeWebPushCall[] = []
  mode: FakeWebPushMode = 'ok'
  /** `Retry-After` of 429 and 503 answers (seconds, or an HTTP date). */
  retryAfter = '7'
  private readonly subscriptions = new Map<string, Subscription>()
  private readonly failures: { status: number; headers: Record<string, string> }[] = []
  private readonly hanging = new Set<ServerResponse>()
  private nextId = 1
  private nextMessage = 1

  private constructor(
    readonly server: Server,
    /** The service's origin, `http://127.0.0.1:<port>`: the VAPID `aud` it expects. */
    readonly url: string,
  ) {}

  static async start(): Promise<FakeWebPush> {
    const holder: { fake?: FakeWebPush } = {}
    const server = createServer((req, res) => void holder.fake!.handle(req, res))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    holder.fake = new FakeWebPush(server, `http://127.0.0.1:${port}`)
    return holder.fake
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy()
    this.server.closeAllConnections()
    await new Promise<void>((r) => this.server.close(() => r()))
  }

  /**
   * A browser subscribes: a P-256 key pair and a 16-byte auth secret the fake keeps, and an
   * endpoint on this service. With `applicationServerKey` (the app's VAPID public key, as
   * `pushManager.subscribe()` takes it), pushes signed with another key are refused with 403.
   */
  newSubscription(opts: { applicationServerKey?: string } = {}): FakeSubscriptionJson {
    const id = `sub-${this.nextId++}`
    const ecdh = createECDH('prime256v1')
    ecdh.generateKeys()
    const auth = randomBytes(16)
    const endpoint = `${this.url}/push/${id}`
    this.subscriptions.set(id, {
      id,
      endpoint,
      ecdh,
      auth,
      applicationServerKey: opts.applicationServerKey,
      gone: false,
      online: false,
      delivered: [],
      queued: [],
    })
    return {
      id,
      endpoint,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    }
  }

  /** The user unsubscribed (or the subscription expired): its pushes are answered 410. */
  expire(subscriptionId: string): void {
    this.subscription(subscriptionId).gone = true
  }

  /** The browser connects (its queue is delivered, and so is every later push at once) or goes away. */
  setOnline(subscriptionId: string, online: boolean): void {
    const sub = this.subscription(subscriptionId)
    sub.online = online
    if (online) sub.delivered.push(...sub.queued.splice(0))
  }

  /**
   * What the browser shows for this subscription once it is online: every push it received,
   * where a push with the same `Topic` as one still queued replaced that one.
   */
  deliveredFor(subscriptionId: string): FakePush[] {
    const sub = this.subscription(subscriptionId)
    return [...sub.delivered, ...sub.queued]
  }

  /** Accepted pushes to one subscription, in order, replaced ones included. */
  pushesFor(subscriptionId: string): FakePush[] {
    return this.pushes.filter((p) => p.subscriptionId === subscriptionId)
  }

  /** The next `n` pushes are answered `status` (with `Retry-After: <retryAfter>` for 429 and 503), then as before. */
  failNext(n: number, status: number, headers: Record<string, string> = {}): void {
    for (let i = 0; i < n; i++) this.failures.push({ status, headers })
  }

  private subscription(id: string): Subscription {
    const sub = this.subscriptions.get(id)
    if (!sub) throw new Error(`FakeWebPush: no subscription ${id}`)
    return sub
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const match = /^\/push\/([^/?]+)$/.exec(req.url ?? '')
    const subscriptionId = match?.[1] ?? ''
    const answer = (status: number, reason?: string, headers: Record<string, string> = {}) => {
      this.calls.push({ subscriptionId, status, ...(reason ? { reason } : {}) })
      res.writeHead(status, { 'content-type': 'text/plain', ...headers })
      res.end(reason ?? '')
    }
    if (req.method !== 'POST' || !match) return answer(404, 'no such endpoint')

    const failure = this.failures.shift()
    if (failure)
      return answer(failure.status, 'failNext', { ...this.retryAfterFor(failure.status), ...failure.headers })
    switch (this.mode) {
      case 'hang':
        this.hanging.add(res)
        this.calls.push({ subscriptionId, status: 0, reason: 'hang' })
        return
      case 'gone':
        return answer(410, 'push subscription has unsubscribed or expired')
      case 'notFound':
        return answer(404, 'push subscription not found')
      case 'tooBig':
        return answer(413, 'payload too large')
      case 'rateLimited':
        return answer(429, 'too many requests', this.retryAfterFor(429))
      case 'unavailable':
        return answer(503, 'service unavailable', this.retryAfterFor(503))
      case 'ok':
        break
    }

    const sub = this.subscriptions.get(subscriptionId)
    if (!sub) return answer(404, 'push subscription not found')
    if (sub.gone) return answer(410, 'push subscription has unsubscribed or expired')

    const vapid = this.checkVapid(req.headers.authorization)
    if ('refused' in vapid) return answer(401, vapid.refused)
    if (sub.applicationServerKey !== undefined && vapid.publicKey !== sub.applicationServerKey)
      return answer(403, 'VAPID key differs from the subscription applicationServerKey')

    const ttlHeader = header(req, 'ttl')
    if (ttlHeader === undefined || !/^\d+$/.test(ttlHeader)) return answer(400, 'TTL header missing or malformed')
    const urgency = header(req, 'urgency')
    if (urgency !== undefined && !['very-low', 'low', 'normal', 'high'].includes(urgency))
      return answer(400, 'Urgency header malformed')
    const topic = header(req, 'topic')
    if (topic !== undefined && (topic.length > 32 || !BASE64URL.test(topic)))
      return answer(400, 'Topic must be at most 32 characters of the URL-safe base64 alphabet')
    if (body.length > MAX_BODY) return answer(413, `payload of ${body.length} bytes is over ${MAX_BODY}`)
    if (header(req, 'content-encoding') !== 'aes128gcm') return answer(400, 'Content-Encoding must be aes128gcm')

    let plaintext: Buffer
    try {
      plaintext = decryptAes128gcm(body, sub.ecdh, sub.auth)
    } catch (err) {
      return answer(400, `cannot decrypt: ${(err as Error).message}`)
    }
    const text = plaintext.toString('utf8')
    let payload: unknown
    try {
      payload = JSON.parse(text)
    } catch {
      payload = text
    }
    const location = `${this.url}/message/${this.nextMessage++}`
    const push: FakePush = {
      subscriptionId,
      payload,
      topic,
      ttl: Number(ttlHeader),
      urgency,
      vapid: { subject: vapid.subject, publicKey: vapid.publicKey },
      plaintextBytes: plaintext.length,
      bodyBytes: body.length,
      location,
    }
    this.pushes.push(push)
    this.deliver(sub, push)
    return answer(201, undefined, { location })
  }

  private deliver(sub: Subscription, push: FakePush): void {
    if (sub.online) {
      sub.delivered.push(push)
      return
    }
    // RFC 8030 §5.2: with TTL 0 a push is delivered now or never.
    if (push.ttl === 0) return
    if (push.topic !== undefined) {
      const replaced = sub.queued.findIndex((q) => q.topic === push.topic)
      if (replaced >= 0) sub.queued.splice(replaced, 1)
    }
    sub.queued.push(push)
  }

  private retryAfterFor(status: number): Record<string, string> {
    return status === 429 || status === 503 ? { 'retry-after': this.retryAfter } : {}
  }

  /** `vapid t=<JWT>, k=<key>`: the claims when the JWT is good, else why not. */
  private checkVapid(authorization: string | undefined): { subject: string; publicKey: string } | { refused: string } {
    const m = /^vapid\s+(.*)$/i.exec(authorization ?? '')
    if (!m) return { refused: 'Authorization is not vapid t=..., k=...' }
    const params = new Map<string, string>()
    for (const part of m[1]!.split(',')) {
      const eq = part.indexOf('=')
      if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim())
    }
    const jwt = params.get('t')
    const k = params.get('k')
    if (!jwt || !k) return { refused: 'vapid needs t and k' }
    const raw = Buffer.from(k, 'base64url')
    if (raw.length !== 65 || raw[0] !== 4) return { refused: 'k is not an uncompressed P-256 point' }
    let key
    try {
      key = createPublicKey({
        key: {
          kty: 'EC',
          crv: 'P-256',
          x: raw.subarray(1, 33).toString('base64url'),
          y: raw.subarray(33).toString('base64url'),
        },
        format: 'jwk',
      })
    } catch {
      return { refused: 'k is not a point on P-256' }
    }
    const [h, p, s] = jwt.split('.')
    if (!h || !p || !s) return { refused: 'malformed JWT' }
    let header: { alg?: unknown }
    let claims: { aud?: unknown; exp?: unknown; sub?: unknown }
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: unknown }
      claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as typeof claims
    } catch {
      return { refused: 'malformed JWT' }
    }
    if (header.alg !== 'ES256') return { refused: 'JWT alg must be ES256' }
    const signature = Buffer.from(s, 'base64url')
    if (
      signature.length !== 64 ||
      !verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, signature)
    )
      return { refused: 'JWT signature does not verify with k' }
    if (claims.aud !== this.url) return { refused: `JWT aud ${String(claims.aud)} is not ${this.url}` }
    const now = Math.floor(Date.now() / 1000)
    if (typeof claims.exp !== 'number' || claims.exp <= now) return { refused: 'JWT expired' }
    if (claims.exp > now + 24 * 3600 + 60) return { refused: 'JWT exp more than 24 hours away' }
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
      return { refused: 'JWT sub must be a mailto: or https: URL' }
    return { subject: claims.sub, publicKey: k }
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

/** The key and base nonce of an aes128gcm body (RFC 8291 §3.4, RFC 8188 §2.2–2.3). */
function contentKeys(
  ecdhSecret: Buffer,
  authSecret: Buffer,
  uaPublic: Buffer,
  asPublic: Buffer,
  salt: Buffer,
): { cek: Buffer; nonce: Buffer } {
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic])
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32))
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16))
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12))
  return { cek, nonce }
}

/** The nonce of record `seq`: the base nonce XOR the sequence number (big-endian, in its last 6 bytes). */
function recordNonce(base: Buffer, seq: number): Buffer {
  const nonce = Buffer.from(base)
  for (let i = 11, rest = seq; rest > 0; i--, rest = Math.floor(rest / 256)) nonce[i]! ^= rest % 256
  return nonce
}

/**
 * Decrypts a Web Push aes128gcm body as the user agent does: the header block (salt, record
 * size, the sender's ephemeral public key as key id), ECDH with the subscription's private key,
 * the auth secret, then each record with its padding removed (delimiter 1, or 2 on the last).
 */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  if (body.length < 21) throw new Error('body shorter than the aes128gcm header')
  const salt = body.subarray(0, 16)
  const rs = body.readUInt32BE(16)
  const idlen = body[20]!
  if (idlen !== 65) throw new Error('key id is not a 65-byte P-256 public key')
  if (rs < 18) throw new Error('record size too small')
  const asPublic = body.subarray(21, 21 + idlen)
  const { cek, nonce } = contentKeys(ua.computeSecret(asPublic), authSecret, ua.getPublicKey(), asPublic, salt)
  const out: Buffer[] = []
  let offset = 21 + idlen
  if (offset >= body.length) throw new Error('no records')
  for (let seq = 0; offset < body.length; seq++) {
    const record = body.subarray(offset, offset + rs)
    offset += rs
    if (record.length < 17) throw new Error('record shorter than its tag')
    const decipher = createDecipheriv('aes-128-gcm', cek, recordNonce(nonce, seq))
    decipher.setAuthTag(record.subarray(record.length - 16))
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()])
    let end = plain.length - 1
    while (end >= 0 && plain[end] === 0) end--
    const last = offset >= body.length
    if (end < 0 || plain[end] !== (last ? 2 : 1)) throw new Error('bad padding delimiter')
    out.push(plain.subarray(0, end))
  }
  return Buffer.concat(out)
}
