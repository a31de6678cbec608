import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { notificationsRoutes, type NotificationsRoutesOptions } from './notifications.routes.js'
import { notificationSchemas } from './notifications.schemas.js'

/**
 * The notifications feature: its schemas (each type's `data`, and the union discriminated by
 * `type`) registered on the whole app, for its routes and the OpenAPI document, and its routes.
 */
export const notificationsFeature = fp(
  async (app: FastifyInstance, opts: NotificationsRoutesOptions) => {
    for (const schema of notificationSchemas) app.addSchema(schema)
    await app.register(notificationsRoutes, opts)
  },
  { name: 'oja-notifications' },
)
