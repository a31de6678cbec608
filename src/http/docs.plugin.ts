import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { finishDocument } from './openapi.js'

/** `/v1/listings/:id` as OpenAPI writes it: `/v1/listings/{id}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

/**
 * OpenAPI 3.1 at /docs/json and Swagger UI at /docs, generated from the route schemas and
 * finished by `finishDocument` (named components, problem codes per route, examples).
 */
export const docsPlugin = fp(
  async (app: FastifyInstance, opts: { conditionalReads?: string[] }) => {
    // The auth kind of each operation, as the routes were registered (for the codes they may answer).
    const authOf = new Map<string, string>()
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Oja API',
          version: '1.0.0',
          description:
            'Second-hand marketplace: listings, chat, offers, checkout with Paystack. Errors are RFC 9457 problems ' +
            '(`application/problem+json`) with a stable `code`; each operation lists the codes it can answer.',
        },
        servers: [{ url: '/', description: 'This server' }],
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
      transform: ({ schema, url, route }) => {
        const auth = route.config?.auth
        const methods = Array.isArray(route.method) ? route.method : [route.method]
        if (auth) for (const m of methods) authOf.set(`${m.toUpperCase()} ${openApiPath(url)}`, auth)
        const s = { ...(schema ?? {}) } as Record<string, unknown>
        if (auth) {
          s.security = [{ bearerAuth: [] }]
          if (auth === 'admin') s.description = `${String(s.description ?? '')} Admins only.`.trim()
          if (auth === 'optional')
            s.description = `${String(s.description ?? '')} Signing in is optional; it adds per-user fields.`.trim()
        }
        return { schema: s as typeof schema, url }
      },
      transformObject: (documentObject) => {
        const doc = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject
        const conditional = new Set((opts.conditionalReads ?? []).map((r) => openApiPath(r)))
        return finishDocument(doc as Parameters<typeof finishDocument>[0], {
          authOf: (method, path) => authOf.get(`${method} ${path}`),
          conditional: (method, path) => conditional.has(`${method} ${path}`),
        }) as typeof doc
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'oja-docs' },
)
