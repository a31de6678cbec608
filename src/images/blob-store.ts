import { randomUUID } from 'node:crypto'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { BlobError, del, put } from '@vercel/blob'
import type { Config } from '../config.js'
import { ImageErrors } from './images.errors.js'

/**
 * A stored file: its pathname in the store (our key) and its URL: the one clients load it from,
 * or for a private file the store's own address, which only the server can read.
 */
export type StoredBlob = { pathname: string; url: string }

/** Pathnames under this prefix are private: never public, read only through `BlobStore.read`. */
export const PRIVATE_PREFIX = 'private/'
export const isPrivatePathname = (pathname: string) => pathname.startsWith(PRIVATE_PREFIX)

/**
 * Where photos live. Two drivers: Vercel Blob when BLOB_READ_WRITE_TOKEN is set, local disk
 * (served at /uploads/) otherwise. Pathnames are chosen by the server, never by a client. A
 * pathname under `private/` (chat photos) is stored private: in the private Vercel Blob store
 * (BLOB_PRIVATE_READ_WRITE_TOKEN; see VercelBlobStore for the fallback without one), or a file
 * outside the served tree on disk. Clients reach private files only through Oja's routes.
 */
export interface BlobStore {
  readonly kind: 'vercel' | 'local'
  put(pathname: string, body: Buffer, contentType: string): Promise<StoredBlob>
  /** The bytes of a private file (null when it is gone); for Oja routes that check who asks. */
  read(blob: StoredBlob): Promise<Buffer | null>
  /** Deletes files by pathname; a file already gone is not an error. */
  delete(pathnames: string[]): Promise<void>
  /** The absolute URL of a stored URL (local URLs are stored relative to PUBLIC_URL). */
  absoluteUrl(url: string): string
}

/** STORAGE_UNAVAILABLE, keeping the store's own error as the cause (for the logs). */
const StorageUnavailable = (cause?: unknown) => Object.assign(ImageErrors.storageUnavailable(), { cause })

const SAFE_PATHNAME = /^[a-z0-9][a-z0-9/_.-]{0,300}$/i

function checkPathname(pathname: string): void {
  if (!SAFE_PATHNAME.test(pathname) || pathname.includes('..') || pathname.includes('//'))
    throw new Error(`unsafe blob pathname: ${pathname}`)
}

/**
 * Vercel Blob through the real `@vercel/blob` client. The client reads its API origin only
 * from `process.env.VERCEL_BLOB_API_URL`, so a configured origin is copied there (tests aim
 * it at a loopback fake); the token is always passed explicitly, which skips Vercel OIDC.
 *
 * A Vercel Blob store is public or private as a whole, so private files (`private/...`) go to
 * a second, private store when its token is configured (BLOB_PRIVATE_READ_WRITE_TOKEN); read
 * back with that token. Without one they go to the public store under their random pathname,
 * which only Oja knows (clients get Oja's own URL, never the store's): unguessable, but not
 * protected by the store itself.
 */
export class VercelBlobStore implements BlobStore {
  readonly kind = 'vercel' as const

  constructor(
    private readonly token: string,
    apiUrl?: string,
    private readonly privateToken?: string,
  ) {
    if (apiUrl) process.env.VERCEL_BLOB_API_URL = apiUrl
  }

  /** The private store's token for a private pathname when there is one. */
  private privateStoreFor(pathname: string): string | undefined {
    return isPrivatePathname(pathname) ? this.privateToken : undefined
  }

  async put(pathname: string, body: Buffer, contentType: string): Promise<StoredBlob> {
    checkPathname(pathname)
    const privateToken = this.privateStoreFor(pathname)
    try {
      const result = await put(pathname, body, {
        access: privateToken ? 'private' : 'public',
        contentType,
        token: privateToken ?? this.token,
        addRandomSuffix: false,
        allowOverwrite: false,
        cacheControlMaxAge: 31_536_000,
      })
      return { pathname: result.pathname, url: result.url }
    } catch (err) {
      throw StorageUnavailable(err)
    }
  }

  async read(blob: StoredBlob): Promise<Buffer | null> {
    checkPathname(blob.pathname)
    // What `get(url, {access:'private'})` of @vercel/blob does (a GET with the token), written
    // out because `get` accepts only *.blob.vercel-storage.com URLs.
    let res: Response
    try {
      const privateToken = this.privateStoreFor(blob.pathname)
      res = await fetch(blob.url, {
        headers: privateToken ? { authorization: `Bearer ${privateToken}` } : {},
        signal: AbortSignal.timeout(15_000),
      })
    } catch (err) {
      throw StorageUnavailable(err)
    }
    if (res.status === 404) return null
    if (!res.ok) throw StorageUnavailable(new Error(`blob read: HTTP ${res.status}`))
    return Buffer.from(await res.arrayBuffer())
  }

  async delete(pathnames: string[]): Promise<void> {
    if (pathnames.length === 0) return
    pathnames.forEach(checkPathname)
    try {
      // Vercel Blob deletes by URL or pathname, up to 1000 per call; unknown ones are ignored.
      const byToken = new Map<string, string[]>()
      for (const p of pathnames) {
        const token = this.privateStoreFor(p) ?? this.token
        byToken.set(token, [...(byToken.get(token) ?? []), p])
      }
      for (const [token, list] of byToken)
        for (let i = 0; i < list.length; i += 1000) await del(list.slice(i, i + 1000), { token })
    } catch (err) {
      throw StorageUnavailable(err instanceof BlobError ? err : new Error(String(err)))
    }
  }

  absoluteUrl(url: string): string {
    return url
  }
}

/**
 * Files under UPLOADS_DIR, served by the app itself at `/uploads/<pathname>`; private files
 * (`private/...`) under `<UPLOADS_DIR>-private`, a sibling that is not served.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const
  readonly root: string
  readonly privateRoot: string

  constructor(
    root: string,
    private readonly publicUrl: string,
  ) {
    this.root = path.resolve(root)
    this.privateRoot = `${this.root}-private`
  }

  private fileOf(pathname: string): string {
    checkPathname(pathname)
    const [root, rest] = isPrivatePathname(pathname)
      ? [this.privateRoot, pathname.slice(PRIVATE_PREFIX.length)]
      : [this.root, pathname]
    const file = path.resolve(root, rest)
    if (!file.startsWith(root + path.sep)) throw new Error(`blob pathname escapes the root: ${pathname}`)
    return file
  }

  async read(blob: StoredBlob): Promise<Buffer | null> {
    try {
      return await readFile(this.fileOf(blob.pathname))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw StorageUnavailable(err)
    }
  }

  async put(pathname: string, body: Buffer, _contentType: string): Promise<StoredBlob> {
    const file = this.fileOf(pathname)
    try {
      await mkdir(path.dirname(file), { recursive: true })
      // Write then rename: a reader never sees half a file.
      const tmp = `${file}.${randomUUID()}.tmp`
      await writeFile(tmp, body, { flag: 'wx' })
      await rename(tmp, file)
    } catch (err) {
      throw StorageUnavailable(err)
    }
    return { pathname, url: isPrivatePathname(pathname) ? pathname : `/uploads/${pathname}` }
  }

  async delete(pathnames: string[]): Promise<void> {
    try {
      await Promise.all(pathnames.map((p) => rm(this.fileOf(p), { force: true })))
    } catch (err) {
      throw StorageUnavailable(err)
    }
  }

  absoluteUrl(url: string): string {
    return url.startsWith('/') ? `${this.publicUrl}${url}` : url
  }
}

/** The configured store: Vercel Blob with a token, local disk without. */
export function createBlobStore(
  config: Pick<
    Config,
    'BLOB_READ_WRITE_TOKEN' | 'BLOB_PRIVATE_READ_WRITE_TOKEN' | 'VERCEL_BLOB_API_URL' | 'UPLOADS_DIR' | 'publicUrl'
  >,
): BlobStore {
  if (config.BLOB_READ_WRITE_TOKEN)
    return new VercelBlobStore(
      config.BLOB_READ_WRITE_TOKEN,
      config.VERCEL_BLOB_API_URL,
      config.BLOB_PRIVATE_READ_WRITE_TOKEN,
    )
  return new LocalBlobStore(config.UPLOADS_DIR, config.publicUrl)
}
