import { TrustErrors } from './trust.errors.js'
import { audit } from '../audit/index.js'
import { forgetCategoryTree } from '../categories/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors } from '../shared/index.js'

type AdminCtx = Ctx & { actor: Actor }

type UserRow = {
  id: string
  email: string
  name: string
  role: string
  banned_at: Date | null
  ban_reason: string | null
  created_at: Date
  cursor_at?: string
}
const toAdminUser = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  bannedAt: u.banned_at?.toISOString() ?? null,
  banReason: u.ban_reason,
  createdAt: u.created_at.toISOString(),
})

type AuditRow = {
  id: string
  position: number
  action: string
  actor_id: string | null
  actor_role: string | null
  target_type: string
  target_id: string
  before: unknown
  after: unknown
  note: string | null
  request_id: string | null
  created_at: Date
}

/** Runs a category edit; whether it commits or not, this node's copy of the tree is dropped after. */
async function afterTreeEdit<T>(ctx: Ctx, edit: () => Promise<T>): Promise<T> {
  try {
    return await edit()
  } finally {
    forgetCategoryTree(ctx.db)
  }
}

/** Admin tools over users, the audit trail and the category tree. */
export function createAdminService(deps: { spine: EventSpine }) {
  const { spine } = deps

  return {
    async listUsers(ctx: AdminCtx, q: { q?: string; banned?: boolean; limit?: number; cursor?: string }) {
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 2) as [string, string] | undefined
      const query = ctx
        .db('users')
        .select(
          'id',
          'email',
          'name',
          'role',
          'banned_at',
          'ban_reason',
          'created_at',
          ctx.db.raw("to_json(created_at) #>> '{}' as cursor_at"),
        )
      if (q.q) query.where((w) => w.whereILike('email', `%${q.q}%`).orWhereILike('name', `%${q.q}%`))
      if (q.banned === true) query.whereNotNull('banned_at')
      if (q.banned === false) query.whereNull('banned_at')
      if (after) query.whereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', after)
      const rows = (await query
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit + 1)) as UserRow[]
      const page = pageOf(rows, limit, (r) => [r.cursor_at!, r.id])
      return { items: page.items.map(toAdminUser), nextCursor: page.nextCursor }
    },

    /** Bans a user: their sessions end and their sockets drop at once, on every node. */
    async ban(ctx: AdminCtx, userId: string, reason: string) {
      const user = await spine.transaction(ctx, async (tx) => {
        const row = (await tx.db('users').where('id', userId).forUpdate().first()) as UserRow | undefined
        if (!row) throw Errors.notFound('User')
        if (row.role === 'admin') throw TrustErrors.cannotBanAdmin()
        if (row.banned_at) throw TrustErrors.alreadyBanned()
        const [updated] = (await tx
          .db('users')
          .where('id', userId)
          .update({ banned_at: tx.db.fn.now(), ban_reason: reason, updated_at: tx.db.fn.now() })
          .returning('*')) as UserRow[]
        await tx
          .db('sessions')
          .where('user_id', userId)
          .whereNull('revoked_at')
          .update({ revoked_at: tx.db.fn.now(), revoked_reason: 'banned' })
        await audit(tx, {
          action: 'admin.user_banned',
          targetType: 'user',
          targetId: userId,
          before: { bannedAt: null },
          after: { bannedAt: updated!.banned_at, reason },
          note: reason,
        })
        return updated!
      })
      spine.disconnect(ctx, { userId, reason: 'banned' })
      return toAdminUser(user)
    },

    async unban(ctx: AdminCtx, userId: string, note?: string) {
      return spine.transaction(ctx, async (tx) => {
        const row = (await tx.db('users').where('id', userId).forUpdate().first()) as UserRow | undefined
        if (!row) throw Errors.notFound('User')
        if (!row.banned_at) throw TrustErrors.notBanned()
        const [updated] = (await tx
          .db('users')
          .where('id', userId)
          .update({ banned_at: null, ban_reason: null, updated_at: tx.db.fn.now() })
          .returning('*')) as UserRow[]
        await audit(tx, {
          action: 'admin.user_unbanned',
          targetType: 'user',
          targetId: userId,
          before: { bannedAt: row.banned_at, reason: row.ban_reason },
          after: { bannedAt: null },
          note,
        })
        return toAdminUser(updated!)
      })
    },

    /** The audit trail, newest first, filterable; keyset paging on the append position. */
    async auditLog(
      ctx: AdminCtx,
      q: {
        action?: string
        actorId?: string
        targetType?: string
        targetId?: string
        from?: string
        to?: string
        limit?: number
        cursor?: string
      },
    ) {
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 1) as [number] | undefined
      const query = ctx.db('audit_log').select('*')
      if (q.action) query.where('action', q.action)
      if (q.actorId) query.where('actor_id', q.actorId)
      if (q.targetType) query.where('target_type', q.targetType)
      if (q.targetId) query.where('target_id', q.targetId)
      if (q.from) query.where('created_at', '>=', q.from)
      if (q.to) query.where('created_at', '<', q.to)
      if (after) query.where('position', '<', Number(after[0]))
      const rows = (await query.orderBy('position', 'desc').limit(limit + 1)) as AuditRow[]
      const page = pageOf(rows, limit, (r) => [r.position])
      return {
        items: page.items.map((r) => ({
          id: r.id,
          action: r.action,
          actorId: r.actor_id,
          actorRole: r.actor_role,
          targetType: r.target_type,
          targetId: r.target_id,
          before: r.before,
          after: r.after,
          note: r.note,
          requestId: r.request_id,
          createdAt: r.created_at.toISOString(),
        })),
        nextCursor: page.nextCursor,
      }
    },

    async listCategories(ctx: AdminCtx) {
      const rows = (await ctx
        .db('categories as c')
        .leftJoin(
          ctx.db('listings').select('category_id').count({ n: '*' }).groupBy('category_id').as('l'),
          'l.category_id',
          'c.id',
        )
        .orderBy([
          { column: 'c.parent_id', order: 'asc', nulls: 'first' },
          { column: 'c.position' },
          { column: 'c.name' },
        ])
        .select(
          'c.id',
          'c.name',
          'c.slug',
          'c.parent_id',
          'c.position',
          ctx.db.raw('coalesce(l.n, 0)::int as listing_count'),
        )) as {
        id: string
        name: string
        slug: string
        parent_id: string | null
        position: number
        listing_count: number
      }[]
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        slug: r.slug,
        parentId: r.parent_id,
        position: r.position,
        listingCount: r.listing_count,
      }))
    },

    async createCategory(
      ctx: AdminCtx,
      input: { name: string; slug: string; parentId?: string | null; position?: number },
    ) {
      return afterTreeEdit(ctx, () =>
        spine.transaction(ctx, async (tx) => {
          if (input.parentId && !(await tx.db('categories').where('id', input.parentId).first('id')))
            throw Errors.notFound('Parent category')
          if (await tx.db('categories').where('slug', input.slug).first('id')) throw TrustErrors.slugTaken()
          const [row] = (await tx
            .db('categories')
            .insert({
              name: input.name,
              slug: input.slug,
              parent_id: input.parentId ?? null,
              position: input.position ?? 0,
            })
            .returning('*')) as { id: string; name: string; slug: string; parent_id: string | null; position: number }[]
          await audit(tx, { action: 'admin.category_created', targetType: 'category', targetId: row!.id, after: input })
          return {
            id: row!.id,
            name: row!.name,
            slug: row!.slug,
            parentId: row!.parent_id,
            position: row!.position,
            listingCount: 0,
          }
        }),
      )
    },

    async updateCategory(
      ctx: AdminCtx,
      id: string,
      patch: { name?: string; slug?: string; parentId?: string | null; position?: number },
    ) {
      return afterTreeEdit(ctx, () =>
        spine.transaction(ctx, async (tx) => {
          // Serialise tree edits so two concurrent moves cannot build a cycle together.
          await tx.db.raw('select pg_advisory_xact_lock(7042201)')
          const existing = (await tx.db('categories').where('id', id).first()) as
            { id: string; name: string; slug: string; parent_id: string | null; position: number } | undefined
          if (!existing) throw Errors.notFound('Category')
          if (patch.parentId) {
            const { rows } = (await tx.db.raw(
              'with recursive sub as (select id from categories where id = ? union all select c.id from categories c join sub on c.parent_id = sub.id) select id from sub where id = ?',
              [id, patch.parentId],
            )) as { rows: unknown[] }
            if (rows.length > 0) throw TrustErrors.categoryCycle()
            if (!(await tx.db('categories').where('id', patch.parentId).first('id')))
              throw Errors.notFound('Parent category')
          }
          if (
            patch.slug &&
            patch.slug !== existing.slug &&
            (await tx.db('categories').where('slug', patch.slug).first('id'))
          )
            throw TrustErrors.slugTaken()
          const [row] = (await tx
            .db('categories')
            .where('id', id)
            .update({
              ...(patch.name !== undefined ? { name: patch.name } : {}),
              ...(patch.slug !== undefined ? { slug: patch.slug } : {}),
              ...(patch.parentId !== undefined ? { parent_id: patch.parentId } : {}),
              ...(patch.position !== undefined ? { position: patch.position } : {}),
            })
            .returning('*')) as { id: string; name: string; slug: string; parent_id: string | null; position: number }[]
          await audit(tx, {
            action: 'admin.category_updated',
            targetType: 'category',
            targetId: id,
            before: {
              name: existing.name,
              slug: existing.slug,
              parentId: existing.parent_id,
              position: existing.position,
            },
            after: patch,
          })
          const count = await tx.db('listings').where('category_id', id).count({ n: '*' }).first()
          return {
            id: row!.id,
            name: row!.name,
            slug: row!.slug,
            parentId: row!.parent_id,
            position: row!.position,
            listingCount: Number(count?.n ?? 0),
          }
        }),
      )
    },

    async deleteCategory(ctx: AdminCtx, id: string) {
      await afterTreeEdit(ctx, () =>
        spine.transaction(ctx, async (tx) => {
          await tx.db.raw('select pg_advisory_xact_lock(7042201)')
          const existing = await tx.db('categories').where('id', id).first()
          if (!existing) throw Errors.notFound('Category')
          const child = await tx.db('categories').where('parent_id', id).first('id')
          const listing = await tx.db('listings').where('category_id', id).first('id')
          if (child || listing) throw TrustErrors.categoryInUse()
          await tx.db('categories').where('id', id).delete()
          await audit(tx, {
            action: 'admin.category_deleted',
            targetType: 'category',
            targetId: id,
            before: { name: existing.name, slug: existing.slug },
          })
        }),
      )
    },
  }
}

export type AdminService = ReturnType<typeof createAdminService>
