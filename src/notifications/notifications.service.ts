import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import type { Db, Knex } from '../db/index.js'
import type { NotificationRow } from './notifications.tables.js'

type Listed = Pick<NotificationRow, 'id' | 'type' | 'data' | 'read_at' | 'created_at'> & { cursor_at: string }
const toNotification = (r: Listed) => ({
  id: r.id,
  type: r.type,
  data: r.data,
  readAt: r.read_at ? r.read_at.toISOString() : null,
  createdAt: r.created_at.toISOString(),
})

/** Notifications and the per-user event log (resync after a reconnect). */
export const notificationsService = {
  async list(ctx: Ctx & { actor: Actor }, q: { unread?: boolean; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20
    const after = decodeCursor(q.cursor, 2, 'notifications') as [string, string] | undefined
    const query = ctx.db('notifications').where('user_id', ctx.actor.id)
    if (q.unread) query.whereNull('read_at')
    if (after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', after)
    const rows = await query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1)
      .select<Listed[]>(
        'id',
        'type',
        'data',
        'read_at',
        'created_at',
        ctx.db.raw("to_json(created_at) #>> '{}' as cursor_at"),
      )
    // The cursor keeps the timestamp's microseconds (a JS Date would cut them and skip rows).
    const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'notifications')
    return { items: page.items.map(toNotification), nextCursor: page.nextCursor }
  },

  async markRead(ctx: Ctx & { actor: Actor }, body: { ids?: string[]; all?: boolean }): Promise<{ updated: number }> {
    const query = ctx.db('notifications').where('user_id', ctx.actor.id).whereNull('read_at')
    if (!body.all) query.whereIn('id', body.ids ?? [])
    const updated = await query.update({ read_at: ctx.db.fn.now() })
    return { updated }
  },

  async unreadCount(ctx: Ctx & { actor: Actor }): Promise<number> {
    const row = await ctx
      .db('notifications')
      .where('user_id', ctx.actor.id)
      .whereNull('read_at')
      .count({ n: '*' })
      .first()
    return Number(row?.n ?? 0)
  },

  /** Every stored event of the user after `after`, in seq order. */
  async eventsAfter(ctx: Pick<Ctx, 'db'>, userId: string, after: number, limit: number) {
    const rows = await ctx
      .db('user_events')
      .where('user_id', userId)
      .andWhere('seq', '>', after)
      .orderBy('seq')
      .limit(limit + 1)
      .select('seq', 'event', 'data', 'created_at')
    return {
      items: rows
        .slice(0, limit)
        .map((r) => ({ seq: r.seq, event: r.event, data: r.data, createdAt: r.created_at.toISOString() })),
      hasMore: rows.length > limit,
    }
  },
}

/**
 * Stores one notification of `type` for each user `source` selects (a statement with a
 * `user_id` column), in the caller's transaction, in one statement however many users.
 * With `data` every notification carries it; with `'per row'` the source also selects a
 * jsonb `data` column, one per user. The event spine calls it and appends each one's
 * `notification:new` event.
 */
export async function insertNotifications(
  db: Db,
  source: Knex.Raw,
  type: string,
  data: Record<string, unknown> | 'per row',
): Promise<NotificationRow[]> {
  const { rows } = await db.raw<{ rows: NotificationRow[] }>(
    data === 'per row'
      ? `insert into notifications (user_id, type, data)
           select user_id, :type, data from (:source) as s
           returning id, user_id, type, data, read_at, created_at`
      : `insert into notifications (user_id, type, data)
           select user_id, :type, :data::jsonb from (:source) as s
           returning id, user_id, type, data, read_at, created_at`,
    data === 'per row' ? { type, source } : { type, data: JSON.stringify(data), source },
  )
  return rows
}
