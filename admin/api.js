// The console's only way to the server: the public API, with the admin's own tokens.
// Tokens live in this module's memory (never in localStorage or a cookie): a reload signs out.

/** A problem answer (RFC 9457) as an Error: `detail` is what the console shows. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`)
    this.status = status
    this.code = problem?.code || 'HTTP_ERROR'
    this.problem = problem
  }
}

let session = null // { accessToken, refreshToken, user, expiresAt }
let refreshing = null
let refreshTimer = null
const listeners = new Set()

/** Called with the session (or null) whenever it changes: sign-in, refresh, sign-out. */
export function onSession(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}
const announce = () => listeners.forEach((fn) => fn(session))

export const currentSession = () => session

function schedule(expiresIn) {
  clearTimeout(refreshTimer)
  // Refresh a minute before the access token expires (at 80 % of a lifetime of five minutes or less).
  const ms = Math.max(5_000, expiresIn > 300 ? expiresIn * 1000 - 60_000 : expiresIn * 800)
  refreshTimer = setTimeout(() => void refresh().catch(() => signedOut()), ms)
}

function adopt(tokens, user) {
  session = {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    user: user ?? session?.user,
    expiresAt: Date.now() + (tokens.expiresIn ?? 900) * 1000,
  }
  schedule(tokens.expiresIn ?? 900)
  announce()
}

function signedOut() {
  clearTimeout(refreshTimer)
  session = null
  announce()
}

async function send(method, path, body, token, headers = {}) {
  const res = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // Not JSON (a proxy's error page): the status says enough.
  }
  if (!res.ok) throw new ApiError(res.status, json)
  return json
}

/** Rotates the refresh token (one at a time); the new access token goes to the live socket too. */
export function refresh() {
  if (!session) return Promise.reject(new ApiError(401, { detail: 'Signed out' }))
  refreshing ??= send('POST', '/v1/auth/refresh', { refreshToken: session.refreshToken })
    .then((tokens) => adopt(tokens))
    .finally(() => {
      refreshing = null
    })
  return refreshing
}

/**
 * Signs in with email and password. Only admins stay signed in: anyone else is signed out
 * again at once (their session ended) and gets an error saying why.
 */
export async function signIn(email, password) {
  const answer = await send('POST', '/v1/auth/login', { email, password })
  if (answer.user.role !== 'admin') {
    await send('POST', '/v1/auth/logout', { refreshToken: answer.refreshToken }).catch(() => {})
    throw new ApiError(403, {
      code: 'FORBIDDEN',
      detail: `${answer.user.email} is not an admin. Sign in with an admin account.`,
    })
  }
  adopt(answer, answer.user)
  return answer.user
}

export async function signOut() {
  const s = session
  signedOut()
  if (s) await send('POST', '/v1/auth/logout', { refreshToken: s.refreshToken }).catch(() => {})
}

/** Calls the API as the signed-in admin; an expired access token is refreshed once and the call retried. */
export async function api(method, path, body, headers) {
  if (!session) throw new ApiError(401, { detail: 'You are signed out. Sign in again.' })
  try {
    return await send(method, path, body, session.accessToken, headers)
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401 || !session) throw err
    try {
      await refresh()
    } catch {
      signedOut()
      throw new ApiError(401, { detail: 'Your session ended. Sign in again.' })
    }
    return send(method, path, body, session.accessToken, headers)
  }
}

/** A query string from the filled-in fields only. */
export function qs(params) {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  const s = q.toString()
  return s ? `?${s}` : ''
}
