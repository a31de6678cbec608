import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type StoredFakeBlob = { body: Buffer; contentType: string; access: string; uploadedAt: Date }
export type FakeBlobRequest = { method: string; path: string; headers: IncomingMessage['headers'] }

/**
 * A loopback fake of the Vercel Blob API, as `@vercel/blob` 2.8 calls it
 * (`PUT /?pathname=` with the raw body, `POST /delete` `{urls}`,
 * `GET /?url=` for head). Errors are `{error:{code,message}}`. Stored files are served back at
 * `<origin>/files/<pathname>` so tests can inspect what was uploaded; a private one
 * (`x-vercel-blob-access: private`) only to a request bearing the store's token.
 */
export class FakeBlobApi {
  readonly blobs = new Map<string, StoredFakeBlob>()
  readonly requests: FakeBlobRequest[] = []
  readonly storeId = 'fakestore'
  readonly token = `vercel_blob_rw_${this.storeId}_secret123`
  /** A second store, private (Vercel Blob stores are public or private as a whole). */
  readonly privateStoreId = 'fakeprivate'
  readonly privateToken = `vercel_blob_rw_${this.privateStoreId}_secret456`
  url = ''
  /** Fail this many coming PUTs with 503 service_unavailable (after storing nothing). */
  failPuts = 0
  private failAt = 0
  /** Fail every delete with 503 while true. */
  failDeletes = false
  private putCounter = 0
  private server = createServer((req, res) => {
    this.handle(req, res).catch((err) => this.error(res, 500, 'unknown_error', String(err)))
  })

  static async start(): Promise<FakeBlobApi> {
    const fake = new FakeBlobApi()
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`
    return fake
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Makes the Nth coming PUT (1-based, counted from now) fail with 503. */
  failNthPut(n: number): void {
    this.failAt = this.putCounter + n
  }

  fileUrl(pathname: string): string {
    return `${this.url}/files/${pathname}`
  }

  private error(res: ServerResponse, status: number, code: string, message: string) {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }))
  }

  private json(res: ServerResponse, body: unknown) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  private pathnameOf(urlOrPathname: string): string {
    if (urlOrPathname.startsWith('http://') || urlOrPathname.startsWith('https://')) {
      const u = new URL(urlOrPathname)
      return decodeURIComponent(u.pathname.replace(/^\/files\//, '/').slice(1))
    }
    return urlOrPathname
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', this.url)
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)

    if (req.method === 'GET' && url.pathname.startsWith('/files/')) {
      const blob = this.blobs.get(decodeURIComponent(url.pathname.slice('/files/'.length)))
      if (!blob) return void res.writeHead(404).end('not found')
      // A private blob answers only with its store's token (what `get(..., {access:'private'})` sends).
      if (blob.access === 'private' && req.headers.authorization !== `Bearer ${this.privateToken}`)
        return this.error(res, 403, 'forbidden', 'This blob is private')
      return void res
        .writeHead(200, { 'content-type': blob.contentType, 'content-length': blob.body.length })
        .end(blob.body)
    }

    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers })
    const store = req.headers.authorization === `Bearer ${this.privateToken}` ? 'private' : 'public'
    if (store === 'public' && req.headers.authorization !== `Bearer ${this.token}`)
      return this.error(res, 403, 'forbidden', 'Access denied, please provide a valid token for this resource.')
    if (req.headers['x-vercel-blob-store-id'] !== (store === 'private' ? this.privateStoreId : this.storeId))
      return this.error(res, 400, 'bad_request', 'Missing or wrong store id')
    if (!req.headers['x-api-version']) return this.error(res, 400, 'bad_request', 'Missing API version')

    if (req.method === 'PUT' && url.pathname === '/') {
      const pathname = url.searchParams.get('pathname')
      if (!pathname) return this.error(res, 400, 'bad_request', 'pathname is required')
      this.putCounter++
      if (this.failPuts > 0) {
        this.failPuts--
        return this.error(res, 503, 'service_unavailable', 'The blob service is temporarily unavailable')
      }
      if (this.putCounter === this.failAt) {
        this.failAt = 0
        return this.error(res, 503, 'service_unavailable', 'The blob service is temporarily unavailable')
      }
      if (this.blobs.has(pathname) && req.headers['x-allow-overwrite'] !== '1')
        return this.error(
          res,
          400,
          'bad_request',
          'This blob already exists, use `allowOverwrite: true` if you want to overwrite it.',
        )
      const contentType = String(req.headers['x-content-type'] ?? 'application/octet-stream')
      const access = String(req.headers['x-vercel-blob-access'] ?? 'public')
      if (access !== store)
        return this.error(res, 400, 'bad_request', `This store is ${store}: access must be ${store}`)
      this.blobs.set(pathname, { body, contentType, access, uploadedAt: new Date() })
      const fileUrl = this.fileUrl(pathname)
      return this.json(res, {
        url: fileUrl,
        downloadUrl: `${fileUrl}?download=1`,
        pathname,
        contentType,
        contentDisposition: `inline; filename="${pathname.split('/').pop()}"`,
        etag: `"${createHash('md5').update(body).digest('hex')}"`,
      })
    }

    if (req.method === 'POST' && url.pathname === '/delete') {
      if (this.failDeletes)
        return this.error(res, 503, 'service_unavailable', 'The blob service is temporarily unavailable')
      const { urls } = JSON.parse(body.toString('utf8')) as { urls: string[] }
      // Each store deletes only its own blobs (others are unknown to it, so ignored).
      for (const u of urls)
        if (this.blobs.get(this.pathnameOf(u))?.access === store) this.blobs.delete(this.pathnameOf(u))
      return this.json(res, {})
    }

    if (req.method === 'GET' && url.pathname === '/' && url.searchParams.has('url')) {
      const pathname = this.pathnameOf(url.searchParams.get('url')!)
      const blob = this.blobs.get(pathname)
      if (!blob) return this.error(res, 404, 'not_found', 'The requested blob does not exist')
      const fileUrl = this.fileUrl(pathname)
      return this.json(res, {
        url: fileUrl,
        downloadUrl: `${fileUrl}?download=1`,
        pathname,
        size: blob.body.length,
        contentType: blob.contentType,
        contentDisposition: `inline; filename="${pathname.split('/').pop()}"`,
        cacheControl: 'public, max-age=31536000',
        uploadedAt: blob.uploadedAt.toISOString(),
        etag: '"x"',
      })
    }

    return this.error(res, 400, 'bad_request', `unsupported ${req.method} ${url.pathname}`)
  }
}
