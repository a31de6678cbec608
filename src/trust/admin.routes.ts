import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { IdParams, Page, problems } from '../shared/index.js'
import type { AdminService } from './admin.service.js'
import {
  AdminCategory,
  AdminUser,
  AdminUsersQuery,
  AuditEntry,
  AuditQuery,
  BanBody,
  CategoryInput,
  CategoryPatch,
  UnbanBody,
} from './admin.schemas.js'

const tags = ['admin']
const admin = { auth: 'admin' as const }

export const adminRoutes: FastifyPluginAsyncTypebox<{ admin: AdminService }> = async (app, { admin: service }) => {
  app.get(
    '/v1/admin/users',
    {
      schema: {
        operationId: 'searchUsers',
        tags,
        summary: 'Find users',
        querystring: AdminUsersQuery,
        response: { 200: Page(AdminUser), ...problems(401, 403) },
      },
      config: admin,
    },
    async (req) => service.listUsers(actorCtx(req), req.query),
  )

  app.post(
    '/v1/admin/users/:id/ban',
    {
      schema: {
        operationId: 'banUser',
        tags,
        summary: 'Ban a user: sessions and sockets end at once',
        params: IdParams,
        body: BanBody,
        response: { 200: AdminUser, ...problems(401, 403, 404, 409) },
      },
      config: admin,
    },
    async (req) => service.ban(actorCtx(req), req.params.id, req.body.reason),
  )

  app.post(
    '/v1/admin/users/:id/unban',
    {
      schema: {
        operationId: 'unbanUser',
        tags,
        summary: 'Lift a ban',
        params: IdParams,
        body: UnbanBody,
        response: { 200: AdminUser, ...problems(401, 403, 404, 409) },
      },
      config: admin,
    },
    async (req) => service.unban(actorCtx(req), req.params.id, req.body?.note),
  )

  app.get(
    '/v1/admin/audit-log',
    {
      schema: {
        operationId: 'listAuditLog',
        tags,
        summary: 'The append-only trail of payment state changes and admin actions',
        querystring: AuditQuery,
        response: { 200: Page(AuditEntry), ...problems(401, 403) },
      },
      config: admin,
    },
    async (req) => service.auditLog(actorCtx(req), req.query),
  )

  app.get(
    '/v1/admin/categories',
    {
      schema: {
        operationId: 'listAdminCategories',
        tags,
        summary: 'Every category with its listing count',
        response: { 200: Type.Array(AdminCategory), ...problems(401, 403) },
      },
      config: admin,
    },
    async (req) => service.listCategories(actorCtx(req)),
  )

  app.post(
    '/v1/admin/categories',
    {
      schema: {
        operationId: 'createCategory',
        tags,
        summary: 'Add a category',
        body: CategoryInput,
        headers: IdempotencyHeaders,
        response: { 201: AdminCategory, ...problems(401, 403, 404, 409) },
      },
      config: { ...admin, idempotency: 'optional' },
    },
    // A category has no GET of its own: Location names the admin's category list.
    async (req, reply) =>
      reply
        .code(201)
        .header('location', '/v1/admin/categories')
        .send(await service.createCategory(actorCtx(req), req.body)),
  )

  app.patch(
    '/v1/admin/categories/:id',
    {
      schema: {
        operationId: 'updateCategory',
        tags,
        summary: 'Rename, re-slug, move or reorder a category',
        params: IdParams,
        body: CategoryPatch,
        response: { 200: AdminCategory, ...problems(401, 403, 404, 409) },
      },
      config: admin,
    },
    async (req) => service.updateCategory(actorCtx(req), req.params.id, req.body),
  )

  app.delete(
    '/v1/admin/categories/:id',
    {
      schema: {
        operationId: 'deleteCategory',
        tags,
        summary: 'Delete an unused category',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
      config: admin,
    },
    async (req, reply) => {
      await service.deleteCategory(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )
}
