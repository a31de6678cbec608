import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { HttpErrors } from './http.errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw body, kept only for routes with `config.rawBody` (webhook signatures). */
    rawBody?: Buffer
  }
}

/**
 * JSON bodies: an empty body counts as absent (so body-less POST actions accept both
 * nothing and `{}`), prototype poisoning is refused, and routes that verify signatures
 * keep the raw bytes.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH'))
      req.body = {}
  })
  // JSON with or without parameters (`application/json; charset=utf-8`, as OkHttp sends): JSON is UTF-8
  // (RFC 8259), so another charset is refused rather than misread.
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json\s*(;.*)?$/i, { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer
    const charset = /;\s*charset\s*=\s*"?([\w.:-]+)"?/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase()
    if (charset && charset !== 'utf-8' && charset !== 'utf8')
      return done(HttpErrors.unsupportedMediaType('Send JSON in UTF-8 (charset=utf-8)'), undefined)
    if (req.routeOptions.config?.rawBody) req.rawBody = buf
    if (buf.length === 0 || buf.toString('utf8').trim() === '') return done(null, undefined)
    try {
      done(null, sjson.parse(buf, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch {
      done(HttpErrors.malformedJson(), undefined)
    }
  })
}
