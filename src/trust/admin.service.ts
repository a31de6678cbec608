import { TrustErrors } from './trust.errors.js'
import { lockUser, revokeUserSessions, setUserBan, type UserRow } from '../accounts/index.js'
import { audit, type AuditRow } from '../audit/index.js'
import { setSellerBanned } from '../listings/index.js'
import { setAuthorBanned } from '../wants/index.js'
import {
  createCategory,
  deleteCategory,
  findCategory,
  forgetCategoryTree,
  hasChildCategories,
  isInSubtree,
  updateCategory,
  type CategoryRow,
} from '../categories/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors } from '../shared/index.js'

type AdminCtx = Ctx & { actor: Actor }

type AdminUserRow = Pick<UserRow, 'id' | 'email' | 'name' | 'role' | 'banned_at' | 'ban_reason' | 'created_at'>
const toAdminUser = (u: AdminUserRow) => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  bannedAt: u.banned_at?.toISOString() ?? null,
  banReason: u.ban_reason,
  createdAt: u.created_at.toISOString(),
})

/** A category as the admin tools show it: the node and how many listings it holds. */
const toAdminCategory = (
  c: Pick<CategoryRow, 'id' | 'name' | 'slug' | 'parent_id' | 'position'>,
  listingCount: number,
) => ({
  id: c.id,
  name: c.name,
  slug: c.slug,
  parentId: c.parent_id,
  position: c.position,
  listingCount,
})

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
      const after = decodeCursor(q.cursor, 2, 'admin-users') as [string, string] | undefined
      const query = ctx
        .db('users')
        .select<(AdminUserRow & { cursor_at: string })[]>(
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
      const rows = await query
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit + 1)
      const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'admin-users')
      return { items: page.items.map(toAdminUser), nextCursor: page.nextCursor }
    },

    /**
     * Bans a user: their sessions end and their sockets drop at once, on every node, and their
     * listings and wants leave every public path (search, carts, checkout, offers, wishlists,
     * want lists and matching) in the same transaction. Orders already paid stand.
     */
    async ban(ctx: AdminCtx, userId: string, reason: string) {
      const user = await spine.transaction(ctx, async (tx) => {
        const row = await lockUser(tx.db, userId)
        if (!row) throw Errors.notFound('User')
        if (row.role === 'admin') throw TrustErrors.cannotBanAdmin()
        if (row.banned_at) throw TrustErrors.alreadyBanned()
        const updated = await setUserBan(tx.db, userId, { reason })
        await revokeUserSessions(tx.db, userId, 'banned')
        // Their listings and wants leave every public path in the same commit.
        const listings = await setSellerBanned(tx.db, userId, true)
        const wants = await setAuthorBanned(tx.db, userId, true)
        await audit(tx, {
          action: 'admin.user_banned',
          targetType: 'user',
          targetId: userId,
          before: { bannedAt: null },
          after: { bannedAt: updated.banned_at, reason, listingsHidden: listings, wantsHidden: wants },
          note: reason,
        })
        return updated
      })
      spine.disconnect(ctx, { userId, reason: 'banned' })
      return toAdminUser(user)
    },

    /** Lifts a ban: the user may sign in again, and their listings and wants are back where they were. */
    async unban(ctx: AdminCtx, userId: string, note?: string) {
      return spine.transaction(ctx, async (tx) => {
        const row = await lockUser(tx.db, userId)
        if (!row) throw Errors.notFound('User')
        if (!row.banned_at) throw TrustErrors.notBanned()
        const updated = await setUserBan(tx.db, userId, null)
        const listings = await setSellerBanned(tx.db, userId, false)
        const wants = await setAuthorBanned(tx.db, userId, false)
        await audit(tx, {
          action: 'admin.user_unbanned',
          targetType: 'user',
          targetId: userId,
          before: { bannedAt: row.banned_at, reason: row.ban_reason },
          after: { bannedAt: null, listingsShown: listings, wantsShown: wants },
          note,
        })
        return toAdminUser(updated)
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
      const after = decodeCursor(q.cursor, 1, 'audit-log') as [number] | undefined
      const query = ctx.db('audit_log').select('*')
      if (q.action) query.where('action', q.action)
      if (q.actorId) query.where('actor_id', q.actorId)
      if (q.targetType) query.where('target_type', q.targetType)
      if (q.targetId) query.where('target_id', q.targetId)
      if (q.from) query.where('created_at', '>=', q.from)
      if (q.to) query.where('created_at', '<', q.to)
      if (after) query.where('position', '<', Number(after[0]))
      const rows: AuditRow[] = await query.orderBy('position', 'desc').limit(limit + 1)
      const page = pageOf(rows, limit, (r) => [r.position], 'audit-log')
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
      const rows = await ctx
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
        .select<(Pick<CategoryRow, 'id' | 'name' | 'slug' | 'parent_id' | 'position'> & { listing_count: number })[]>(
          'c.id',
          'c.name',
          'c.slug',
          'c.parent_id',
          'c.position',
          ctx.db.raw('coalesce(l.n, 0)::int as listing_count'),
        )
      return rows.map((r) => toAdminCategory(r, r.listing_count))
    },

    async createCategory(
      ctx: AdminCtx,
      input: { name: string; slug: string; parentId?: string | null; position?: number },
    ) {
      return afterTreeEdit(ctx, () =>
        spine.transaction(ctx, async (tx) => {
          if (input.parentId && !(await findCategory(tx.db, { id: input.parentId })))
            throw Errors.notFound('Parent category')
          if (await findCategory(tx.db, { slug: input.slug })) throw TrustErrors.slugTaken()
          const row = await createCategory(tx.db, {
            name: input.name,
            slug: input.slug,
            parentId: input.parentId ?? null,
            position: input.position ?? 0,
          })
          await audit(tx, { action: 'admin.category_created', targetType: 'category', targetId: row.id, after: input })
          return toAdminCategory(row, 0)
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
          const existing = await findCategory(tx.db, { id })
          if (!existing) throw Errors.notFound('Category')
          if (patch.parentId) {
            if (await isInSubtree(tx.db, id, patch.parentId)) throw TrustErrors.categoryCycle()
            if (!(await findCategory(tx.db, { id: patch.parentId }))) throw Errors.notFound('Parent category')
          }
          if (patch.slug && patch.slug !== existing.slug && (await findCategory(tx.db, { slug: patch.slug })))
            throw TrustErrors.slugTaken()
          const row = (await updateCategory(tx.db, id, patch))!
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
          return toAdminCategory(row, Number(count?.n ?? 0))
        }),
      )
    },

    async deleteCategory(ctx: AdminCtx, id: string) {
      await afterTreeEdit(ctx, () =>
        spine.transaction(ctx, async (tx) => {
          await tx.db.raw('select pg_advisory_xact_lock(7042201)')
          const existing = await findCategory(tx.db, { id })
          if (!existing) throw Errors.notFound('Category')
          const child = await hasChildCategories(tx.db, id)
          const listing = await tx.db('listings').where('category_id', id).first('id')
          if (child || listing) throw TrustErrors.categoryInUse()
          await deleteCategory(tx.db, id)
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
