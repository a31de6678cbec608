import { redactSecrets } from '../shared/index.js'

/** What a logged request (Fastify's `{ req }`, or a raw IncomingMessage) may carry. */
type LoggedRequest = {
  method?: string
  url?: string
  host?: string
  ip?: string
  headers?: Record<string, unknown>
  socket?: { remotePort?: number }
}

/**
 * Fastify's request log fields, with the values of secret query parameters redacted: a plain
 * GET of `/v1/stream?token=<access token>` or `/reset-password?token=` must not put the token
 * in the logs.
 */
export function requestLogSerializer(req: LoggedRequest) {
  const version = req.headers?.['accept-version']
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactSecrets(req.url) : req.url,
    version: typeof version === 'string' ? version : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  }
}
