import type { Db } from '../db/index.js'
import { AuthErrors } from './auth.errors.js'

/**
 * Why each of these sessions is no longer live, in one statement: `banned` (its user is),
 * the reason it was revoked with, or `session_ended` (revoked without one, or gone). Live
 * sessions are not in the map. Live connections and batched socket requests check this
 * where REST checks the access token (resolveAccessToken).
 */
export async function sessionEnds(db: Db, sessionIds: string[]): Promise<Map<string, string>> {
  if (sessionIds.length === 0) return new Map()
  const { rows } = await db.raw<{ rows: { id: string; reason: string }[] }>(SESSION_ENDS_SQL, [
    [...new Set(sessionIds)],
  ])
  return new Map(rows.map((r) => [r.id, r.reason]))
}

/**
 * The statement of `sessionEnds`, for a caller that reads it as part of its own (one `?`
 * binding: a uuid[] of session ids): one row `(id, reason)` per ended session.
 */
export const SESSION_ENDS_SQL = `select x.id,
         case when s.id is null then 'session_ended'
              when u.banned_at is not null then 'banned'
              else coalesce(s.revoked_reason, 'session_ended') end as reason
    from unnest(?::uuid[]) as x(id)
    left join sessions s on s.id = x.id
    left join users u on u.id = s.user_id
   where s.id is null or u.banned_at is not null or s.revoked_at is not null`

/**
 * The error a request on a connection whose session ended gets, as REST would answer it: a
 * ban is 403 ACCOUNT_BANNED ("suspended"), anything else 401 SESSION_REVOKED ("signed out").
 * It carries the reason, so a live connection can be ended with it.
 */
export function sessionEndedError(reason: string) {
  return Object.assign(reason === 'banned' ? AuthErrors.banned() : AuthErrors.sessionRevoked(), {
    sessionEndReason: reason,
  })
}

/** The session-end reason an error carries (see sessionEndedError), or null. */
export const sessionEndReasonOf = (err: unknown): string | null =>
  typeof (err as { sessionEndReason?: unknown } | null)?.sessionEndReason === 'string'
    ? (err as { sessionEndReason: string }).sessionEndReason
    : null
