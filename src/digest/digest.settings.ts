import type { Db } from '../db/index.js'

/**
 * Turns a user's unread digest off (or on again), whoever asks: the unsubscribe link, or the
 * notification preferences (`unreadDigest`). A user that no longer exists is ignored.
 */
export async function setDigestOff(db: Db, userId: string, off: boolean): Promise<void> {
  await db.raw(
    `insert into digest_settings (user_id, off)
     select id, :off from users where id = :userId
     on conflict (user_id) do update set off = excluded.off, updated_at = now()`,
    { userId, off },
  )
}

/** Whether a user's unread digest is off (the unsubscribe link, or the preference). */
export async function isDigestOff(db: Db, userId: string): Promise<boolean> {
  const row = await db('digest_settings').where('user_id', userId).first('off')
  return row?.off ?? false
}

/** Which of these users have their unread digest off (the preferences' `unreadDigest`). */
export async function digestOffOf(db: Db, userIds: string[]): Promise<Set<string>> {
  if (userIds.length === 0) return new Set()
  const rows = await db('digest_settings').whereIn('user_id', userIds).where('off', true).select('user_id')
  return new Set(rows.map((r) => r.user_id))
}
