import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** How a public read may be cached: seconds a shared cache may keep it without asking again. */
export type PublicRead = {
  maxAge: number
  /** the answer holds nothing of the signed-in caller's */ anonymous?: boolean
}

export type EtagOptions = {
  /** The public reads, by `METHOD /route/:pattern`. */
  routes: Record<string, PublicRead>
}

/** A strong validator for a response body: the first 128 bits of its SHA-256, base64url. */
export function etagOf(body: string | Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`
}

/** RFC 9110 §13.1.2: `*`, or any listed tag equal to ours under the weak comparison. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  const ours = etag.replace(/^W\//, '')
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours)
}

/**
 * `ETag` and `If-None-Match` for the public reads (listing, categories, profiles, reviews): a
 * 200 answer carries a strong ETag of its exact body, and a request whose If-None-Match names
 * it gets 304 with no body. An anonymous caller's answer is `public, max-age=N,
 * must-revalidate`; a signed-in caller's stays `private, no-store` (a listing or profile may
 * show its owner more), unless the route says its answer is the same for everyone (categories).
 */
export const etagPlugin = fp(
  async (app: FastifyInstance, opts: EtagOptions) => {
    app.addHook('onSend', async (req, reply, payload) => {
      // HEAD is answered by the GET route (Fastify's exposed HEAD routes): the same validator.
      const read = opts.routes[`${req.method === 'HEAD' ? 'GET' : req.method} ${req.routeOptions.url}`]
      if (!read || reply.statusCode !== 200) return payload
      if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload
      const etag = etagOf(payload)
      reply.header('etag', etag)
      if (!req.actor || read.anonymous) {
        reply.header('cache-control', `public, max-age=${read.maxAge}, must-revalidate`)
        const vary = reply.getHeader('vary')
        reply.header('vary', vary ? `${String(vary)}, Authorization` : 'Authorization')
      }
      const ifNoneMatch = req.headers['if-none-match']
      if (!noneMatch(typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined, etag)) return payload
      reply.code(304)
      reply.removeHeader('content-type')
      reply.removeHeader('content-length')
      return ''
    })
  },
  { name: 'oja-etag' },
)
