import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance, FastifyReply } from 'fastify'

const here = path.dirname(fileURLToPath(import.meta.url))
/** The console's own files (index.html, ES modules, CSS), at the top of the repository. */
export const CONSOLE_ROOT = path.resolve(here, '../../admin')
const NODE_MODULES = path.resolve(here, '../../node_modules')

/**
 * The console's Content-Security-Policy: scripts, styles and everything else from this origin
 * only (no inline scripts or styles, no eval); the API and the live gateway on this origin
 * (`'self'` covers ws: and wss: to it); photos may come from blob storage.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: https:",
  "connect-src 'self'",
  "font-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

/** The third-party ES modules the console imports, served from node_modules under /admin/vendor/ (no bundler). */
const VENDOR: Record<string, { file: string; type: string }> = {
  'preact-htm.js': { file: 'htm/preact/standalone.module.js', type: 'text/javascript; charset=utf-8' },
  'uplot.js': { file: 'uplot/dist/uPlot.esm.js', type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
  // The client build the socket.io server package ships (a runtime dependency, and the server's own
  // version), not socket.io-client, which is a devDependency and absent from production installs.
  'socket.io.js': { file: 'socket.io/client-dist/socket.io.esm.min.js', type: 'text/javascript; charset=utf-8' },
}

function loadVendor() {
  return new Map(
    Object.entries(VENDOR).map(([name, { file, type }]) => {
      const body = readFileSync(path.join(NODE_MODULES, file))
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
      return [name, { body, type, etag }]
    }),
  )
}

/**
 * The admin console (issue 15): static files under /admin/, served by this process and
 * talking only to the public API with the admin's own tokens. Its answers, and only its,
 * carry a strict CSP (the API's JSON answers keep helmet's headers as they are).
 */
export async function consolePlugin(app: FastifyInstance): Promise<void> {
  const vendor = loadVendor()
  const index = readFileSync(path.join(CONSOLE_ROOT, 'index.html'))

  // This plugin is not wrapped in fastify-plugin: the hook sees the console's answers only.
  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CONSOLE_CSP)
  })

  const sendIndex = (reply: FastifyReply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(index)
  app.get('/admin', { schema: { hide: true } }, async (_req, reply) => sendIndex(reply))
  app.get('/admin/', { schema: { hide: true } }, async (_req, reply) => sendIndex(reply))

  app.get<{ Params: { file: string } }>('/admin/vendor/:file', { schema: { hide: true } }, async (req, reply) => {
    const asset = vendor.get(req.params.file)
    if (!asset) return reply.callNotFound()
    reply.header('etag', asset.etag).header('cache-control', 'public, max-age=3600')
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send()
    return reply.type(asset.type).send(asset.body)
  })

  await app.register(fastifyStatic, {
    root: CONSOLE_ROOT,
    prefix: '/admin/',
    decorateReply: false,
    index: false,
    wildcard: true,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: 0,
    allowedPath: (pathName) => pathName !== '/index.html',
  })
}
