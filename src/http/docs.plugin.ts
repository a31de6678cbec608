import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** OpenAPI 3 at /docs/json and Swagger UI at /docs, generated from the route schemas. */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Oja API',
          version: '1.0.0',
          description: 'Second-hand marketplace: listings, chat, offers, checkout with Paystack.',
        },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
      },
      transform: ({ schema, url, route }) => {
        const auth = route.config?.auth
        const s = { ...(schema ?? {}) } as Record<string, unknown>
        if (auth) {
          s.security = [{ bearerAuth: [] }]
          if (auth === 'admin') s.description = `${String(s.description ?? '')} Admins only.`.trim()
          if (auth === 'optional')
            s.description = `${String(s.description ?? '')} Signing in is optional; it adds per-user fields.`.trim()
        }
        return { schema: s as typeof schema, url }
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'oja-docs' },
)
