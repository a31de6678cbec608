/**
 * Oja's TypeScript client. REST calls are typed from Oja's OpenAPI document (the types in
 * schema.d.ts are generated, never written by hand); the client keeps the caller's tokens,
 * sends the access token, and when it has expired refreshes it once, however many calls
 * were waiting, then retries them.
 *
 * ```ts
 * const oja = createOjaClient({ baseUrl: 'https://api.oja.example' })
 * await oja.signIn('ada@example.com', 'correct horse battery staple')
 * const listing = await oja.unwrap(oja.api.GET('/v1/listings/{id}', { params: { path: { id } } }))
 * ```
 */
import createClient, { type Client } from 'openapi-fetch'
import type { components, paths } from './schema.js'

export type { components, operations, paths } from './schema.js'
/** Every named schema of the API: `Schemas['Listing']`, `Schemas['Order']`, ... */
export type Schemas = components['schemas']

/** What sign-in, registration and refresh answer. */
export type Tokens = { accessToken: string; refreshToken: string; expiresIn?: number }

/** Where the client keeps the tokens: memory by default; an app may keep them in its secure store. */
export interface TokenStore {
  get(): Tokens | undefined
  set(tokens: Tokens | undefined): void | Promise<void>
}

export function memoryTokens(initial?: Tokens): TokenStore {
  let tokens = initial
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next
    },
  }
}

/** An RFC 9457 problem the API answered, thrown by `unwrap`. */
export class OjaProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly body: Record<string, unknown>,
  ) {
    super(`${status} ${code}: ${detail}`)
    this.name = 'OjaProblem'
  }
}

export type OjaClientOptions = {
  /** The API's origin, e.g. `https://api.oja.example` (no trailing slash). */
  baseUrl: string
  tokens?: TokenStore
  /** Called when a refresh is refused: the session has ended and the user must sign in again. */
  onSignedOut?: () => void
  /** Another fetch (tests, React Native polyfills). */
  fetch?: typeof fetch
}

export type OjaClient = {
  /** The typed REST client (openapi-fetch): `api.GET('/v1/listings/{id}', { params: { path: { id } } })`. */
  api: Client<paths>
  tokens: TokenStore
  /** Signs in and keeps the tokens. */
  signIn(email: string, password: string): Promise<Schemas['AuthResult']>
  /** Creates an account and keeps its tokens. */
  register(body: Schemas['RegisterBody']): Promise<Schemas['AuthResult']>
  /** Ends this session on the server and forgets the tokens. */
  signOut(): Promise<void>
  /** A new token pair now (one request however many callers ask at once); undefined when signed out. */
  refresh(): Promise<Tokens | undefined>
  /** The current access token, refreshed first when it is about to expire. */
  accessToken(): Promise<string | undefined>
  /** The data of an answer, or an OjaProblem for an error answer. */
  unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T>
}

/** Refresh this long before the access token expires (a quarter of its life for short ones). */
const earlyRefreshMs = (expiresInSeconds: number) => Math.min(30_000, (expiresInSeconds * 1000) / 4)

export function createOjaClient(options: OjaClientOptions): OjaClient {
  const baseFetch = options.fetch ?? globalThis.fetch
  const tokens = options.tokens ?? memoryTokens()
  let refreshAt: number | undefined
  let refreshing: Promise<Tokens | undefined> | undefined

  const keep = async (next: Tokens | undefined) => {
    refreshAt =
      next?.expiresIn !== undefined ? Date.now() + next.expiresIn * 1000 - earlyRefreshMs(next.expiresIn) : undefined
    await tokens.set(next)
  }

  const refresh = (): Promise<Tokens | undefined> => {
    refreshing ??= (async () => {
      const current = tokens.get()
      if (!current) return undefined
      const res = await baseFetch(`${options.baseUrl}/v1/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: current.refreshToken }),
      })
      if (res.status >= 500) throw new OjaProblem(res.status, 'REFRESH_FAILED', 'The refresh did not complete', {})
      if (!res.ok) {
        await keep(undefined)
        options.onSignedOut?.()
        return undefined
      }
      const pair = (await res.json()) as Tokens
      await keep(pair)
      return pair
    })().finally(() => {
      refreshing = undefined
    })
    return refreshing
  }

  const accessToken = async (): Promise<string | undefined> => {
    if (refreshing) await refreshing
    if (refreshAt !== undefined && Date.now() >= refreshAt) await refresh()
    return tokens.get()?.accessToken
  }

  const withToken = (request: Request, token: string | undefined): Request => {
    if (!token || request.headers.has('authorization')) return request
    const headers = new Headers(request.headers)
    headers.set('authorization', `Bearer ${token}`)
    return new Request(request, { headers })
  }

  /** Sends with the access token; an expired one is refreshed once and the request sent again. */
  const authedFetch = async (input: Request): Promise<Response> => {
    const token = await accessToken()
    const retry = input.clone()
    const res = await baseFetch(withToken(input, token))
    if (res.status !== 401 || !token || input.headers.has('authorization')) return res
    const problem = (await res
      .clone()
      .json()
      .catch(() => ({}))) as { code?: string }
    if (problem.code !== 'TOKEN_EXPIRED') return res
    // Another call may have refreshed already: only refresh when the token we sent is still current.
    const next = tokens.get()?.accessToken !== token ? tokens.get() : await refresh()
    if (!next) return res
    return baseFetch(withToken(retry, next.accessToken))
  }

  const api = createClient<paths>({ baseUrl: options.baseUrl, fetch: authedFetch })

  const unwrap = async <T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> => {
    const { data, error, response } = await call
    if (response.ok) return data as T
    const body = (error ?? {}) as Record<string, unknown>
    throw new OjaProblem(
      response.status,
      typeof body.code === 'string' ? body.code : 'UNKNOWN',
      typeof body.detail === 'string' ? body.detail : response.statusText,
      body,
    )
  }

  return {
    api,
    tokens,
    refresh,
    accessToken,
    unwrap,
    async signIn(email, password) {
      const result = await unwrap(api.POST('/v1/auth/login', { body: { email, password } }))
      await keep(result)
      return result
    },
    async register(body) {
      const result = await unwrap(api.POST('/v1/auth/register', { body }))
      await keep(result)
      return result
    },
    async signOut() {
      const current = tokens.get()
      if (current) await api.POST('/v1/auth/logout', { body: { refreshToken: current.refreshToken } })
      await keep(undefined)
    },
  }
}
