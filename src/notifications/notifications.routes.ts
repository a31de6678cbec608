import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { Id, Page, PageQuery, StrictObject, Timestamp, problems, type TxCtx } from '../shared/index.js'
import { notificationsService as notifications } from './notifications.service.js'

const tags = ['notifications']

/** The registered union (notifications.schemas.ts): each type with its own `data`. */
const NotificationRef = Type.Ref('Notification')

/**
 * The list is written with JSON.stringify, not compiled from its schema: with a union,
 * fast-json-stringify answers 500 for a whole page when one row fits no branch (a type
 * added without its schema, a row older than a field), and would drop undeclared fields
 * silently. `notify` is typed by the schemas and tests/notification-types.test.ts checks
 * the answers against them.
 */
const plainJson = () => (data: unknown) => JSON.stringify(data)

const MarkReadBody = Type.Union([
  StrictObject({ ids: Type.Array(Id, { minItems: 1, maxItems: 500 }) }),
  StrictObject({ all: Type.Literal(true) }),
])

export type NotificationsRoutesOptions = {
  /** Runs in the transaction that marked some notifications read (the unread counts' event). */
  onRead?: (tx: TxCtx, userId: string) => Promise<void>
}

export const notificationsRoutes: FastifyPluginAsyncTypebox<NotificationsRoutesOptions> = async (app, opts) => {
  app.get(
    '/v1/notifications',
    {
      schema: {
        operationId: 'listNotifications',
        tags,
        summary: 'My notifications, newest first',
        querystring: StrictObject({ unread: Type.Optional(Type.Boolean()), ...PageQuery }),
        response: { 200: Page(NotificationRef), ...problems(401, 403) },
      },
      serializerCompiler: plainJson,
      config: { auth: 'required' },
    },
    async (req) => notifications.list(actorCtx(req), req.query),
  )

  app.post(
    '/v1/notifications/read',
    {
      schema: {
        operationId: 'markNotificationsRead',
        tags,
        summary: 'Mark notifications read',
        body: MarkReadBody,
        response: { 200: Type.Object({ updated: Type.Integer() }), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => {
      const ctx = actorCtx(req)
      return app.spine.transaction(ctx, async (tx) => {
        const result = await notifications.markRead({ ...tx, actor: ctx.actor }, req.body)
        if (result.updated > 0 && opts.onRead) await opts.onRead(tx, ctx.actor.id)
        return result
      })
    },
  )

  app.get(
    '/v1/me/events',
    {
      schema: {
        operationId: 'listEvents',
        tags,
        summary: 'Stored events after a seq, in order: the resync after a reconnect',
        querystring: StrictObject({
          after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({ seq: Type.Integer(), event: Type.String(), data: Type.Unknown(), createdAt: Timestamp }),
            ),
            hasMore: Type.Boolean(),
          }),
          ...problems(401, 403),
        },
      },
      config: { auth: 'required' },
    },
    async (req) => {
      const ctx = actorCtx(req)
      return notifications.eventsAfter(ctx, ctx.actor.id, req.query.after ?? 0, req.query.limit ?? 100)
    },
  )
}
