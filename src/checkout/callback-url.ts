/** Schemes a browser would run or read locally: never a place to send a payer back to. */
const UNSAFE_SCHEMES = new Set(['javascript', 'data', 'vbscript', 'file', 'blob', 'about'])

/**
 * Whether `url` starts with `prefix` at a boundary: a prefix ending in `/` or `:` matches as
 * it is; otherwise the URL must end there or go on with `/`, `?` or `#`, so that
 * `https://app.example.com` admits neither `https://app.example.com.evil.test` nor
 * `https://app.example.com@evil.test`.
 */
function startsWithPrefix(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false
  if (/[/:]$/.test(prefix)) return true
  const next = url[prefix.length]
  return next === undefined || next === '/' || next === '?' || next === '#'
}

/**
 * Whether a checkout may send the payer back to `url` (Paystack's `callback_url`): it must
 * start with one of `origins` (PAYMENT_CALLBACK_ORIGINS, custom app schemes included);
 * without a list, any http(s) URL with a host. Never whitespace, controls or a script scheme.
 */
export function isCallbackUrlAllowed(url: string, origins: readonly string[] | undefined): boolean {
  // eslint-disable-next-line no-control-regex -- controls are what is refused
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return false
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return false
  }
  const scheme = parsed.protocol.slice(0, -1).toLowerCase()
  if (UNSAFE_SCHEMES.has(scheme)) return false
  if (!origins) return (scheme === 'http' || scheme === 'https') && parsed.host !== ''
  return origins.some((o) => startsWithPrefix(url, o))
}
