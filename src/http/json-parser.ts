import type { FastifyInstance } from 'fastify'
import sjson from 'secure-json-parse'
import { AppError } from '../shared/index.js'

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
  app.addContentTypeParser(/^application\/([\w.+-]+\+)?json$/i, { parseAs: 'buffer' }, (req, body, done) => {
    const buf = body as Buffer
    if (req.routeOptions.config?.rawBody) req.rawBody = buf
    if (buf.length === 0 || buf.toString('utf8').trim() === '') return done(null, undefined)
    try {
      done(null, sjson.parse(buf, undefined, { protoAction: 'error', constructorAction: 'error' }))
    } catch {
      done(new AppError('MALFORMED_JSON', 400, 'The body is not valid JSON'), undefined)
    }
  })
}
