import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
// The protocol and its document are pure schema modules (tests/asyncapi.test.ts checks it):
// serving them pulls in nothing of the realtime layer.
import { buildAsyncApiDocument } from '../../realtime/asyncapi.js'

const AsyncApiDocument = Type.Object(
  { asyncapi: Type.String({ description: 'The AsyncAPI version, 3.1.0' }) },
  // Only the version is declared: a declared object would be serialized without its undeclared fields.
  { additionalProperties: true, description: 'An AsyncAPI 3 document' },
)

/** The AsyncAPI 3 document of the live events (Socket.IO and `/v1/stream`) at /docs/asyncapi.json, beside the OpenAPI one. */
export const asyncApiPlugin = fp(
  async (app: FastifyInstance) => {
    const document = buildAsyncApiDocument({ publicUrl: app.config.publicUrl })
    app.get(
      '/docs/asyncapi.json',
      {
        schema: {
          operationId: 'getAsyncApiDocument',
          tags: ['live'],
          summary: 'The AsyncAPI 3 document of the live events (Socket.IO and /v1/stream)',
          response: { 200: AsyncApiDocument, 500: Type.Ref('Problem') },
        },
      },
      async () => document,
    )
  },
  { name: 'oja-asyncapi' },
)
