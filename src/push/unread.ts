import { unreadChatSql } from '../chat/index.js'
import type { Db, Knex } from '../db/index.js'
import { kickAfterCommit, outboxHook, outboxInsert, pushablesOf } from './outbox.js'
import type { AppendHook, EventSpine, StoredEvent, UnreadCounts } from '../events/index.js'
import type { TxCtx } from '../shared/index.js'

/** What a user has not read yet, on any device: the badge is `messages + notifications` (`unread:updated`'s data). */
export type { UnreadCounts }

/** The counts of each user of a `uuid[]` binding, one row per user (`user_id` and the three counts). */
const COUNTS_SQL = `select u.user_id,
    (select count(*)::int from notifications n where n.user_id = u.user_id and n.read_at is null) as notifications,
    chat.messages, chat.conversations
  from unnest(?::uuid[]) as u(user_id)
  cross join lateral (${unreadChatSql('u.user_id')}) as chat`

/** Unread counts of some users, in one statement. */
export async function unreadOf(db: Db, userIds: string[]): Promise<Map<string, UnreadCounts>> {
  if (userIds.length === 0) return new Map()
  const { rows } = await db.raw<{ rows: (UnreadCounts & { user_id: string })[] }>(COUNTS_SQL, [userIds])
  return new Map(rows.map(({ user_id, ...counts }) => [user_id, counts]))
}

/**
 * Appends `unread:updated` with each user's counts as they now stand in this transaction, in
 * one statement (the counts are computed by the insert). Every change that moves a user's
 * counts appends an event to that user first, which locks their event counter until commit:
 * so the counts of the last `unread:updated` a user receives are those of every committed change.
 */
export async function emitUnread(spine: EventSpine, tx: TxCtx, userIds: string[]): Promise<void> {
  await emitUnreadAlongside(spine, tx, userIds, undefined)
}

/** `emitUnread` with a data-modifying statement run in the same statement; answers how many rows it returned. */
async function emitUnreadAlongside(
  spine: EventSpine,
  tx: TxCtx,
  userIds: string[],
  alongside: Knex.Raw | undefined,
): Promise<number> {
  if (userIds.length === 0) return 0
  const source = tx.db.raw(
    `select c.user_id, 'unread:updated'::text as event,
            jsonb_build_object('messages', c.messages, 'notifications', c.notifications, 'conversations', c.conversations) as data,
            0 as ord
       from (${COUNTS_SQL}) as c`,
    [userIds],
  )
  return (await spine.appendSelectAlongside(tx, source, alongside, { prepared: true })).alongside
}

/** The users whose counts an append's events move: a message to someone (not its sender's own copy), a read receipt (the reader's own copy). */
function unreadUsersOf(events: StoredEvent[]): string[] {
  const users = new Set<string>()
  for (const e of events) {
    const data = e.data as { senderId?: string | null; userId?: string } | null
    if (e.event === 'message:new' && data?.senderId !== e.userId) users.add(e.userId)
    else if (e.event === 'message:read' && data?.userId === e.userId) users.add(e.userId)
  }
  return [...users]
}

/**
 * The push feature's spine hook: the outbox rows (`outboxHook`), and `unread:updated` kept
 * exact. A message to someone (not its sender's own copy) and a read receipt (the reader's
 * own copy) change that user's counts; reading notifications tells it through `emitUnread`
 * (notifications' onRead); a new notification does not (its own `notification:new` says the
 * count went up by one). When an append both pushes and moves counts (a chat message: its
 * recipient), the outbox rows are written by the statement that appends `unread:updated`
 * (one round trip, not two); the counts are computed after the append's events.
 */
export function pushHook(spine: EventSpine, queued: () => void): AppendHook {
  const outboxOnly = outboxHook(queued)
  return async (tx, events) => {
    const users = unreadUsersOf(events)
    if (users.length === 0) return outboxOnly(tx, events)
    const rows = pushablesOf(events)
    const queuedRows = await emitUnreadAlongside(
      spine,
      tx,
      users,
      rows.length > 0 ? outboxInsert(tx.db, rows) : undefined,
    )
    kickAfterCommit(tx, queuedRows, queued)
  }
}
