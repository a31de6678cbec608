import type { Db } from '../db/index.js'
import { AuthErrors } from './auth.errors.js'

/**
 * Why each of these sessions is no longer live, in one statement: `banned` (its user is),
 * the reason it was revoked with, or `session_ended` (revoked without one, or gone). Live
 * sessions are not in the map. Live connections and batched socket requests check this
 * where REST checks the access token (resolveAccessToken).
 */
export async function sessionEnds(db: Db, sessionIds: string[]): Promise<Map<string, string>> {
  const ended = new Map<string, string>()
  if (sessionIds.length === 0) return ended
  const { rows } = await db.raw<{
    rows: { id: string; found: boolean; banned: boolean; revoked: boolean; reason: string | null }[]
  }>(
    `select x.id, s.id is not null as found, u.banned_at is not null as banned,
            s.revoked_at is not null as revoked, s.revoked_reason as reason
       from unnest(?::uuid[]) as x(id)
       left join sessions s on s.id = x.id
       left join users u on u.id = s.user_id`,
    [[...new Set(sessionIds)]],
  )
  for (const r of rows) {
    if (!r.found) ended.set(r.id, 'session_ended')
    else if (r.banned) ended.set(r.id, 'banned')
    else if (r.revoked) ended.set(r.id, r.reason ?? 'session_ended')
  }
  return ended
}

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
