import type { FastifyInstance } from 'fastify'
import { resolveAccessToken } from '../src/auth/auth.plugin.js'
import type { Db } from '../src/db/index.js'
import type { Actor } from '../src/shared/context.js'
import { AppError, Errors } from '../src/shared/errors.js'

/** The user's latest seq (0 before the first event). */
export async function latestSeq(db: Db, userId: string): Promise<number> {
  const row = (await db('user_event_counters').where('user_id', userId).first('last_seq')) as { last_seq: number } | undefined
  return row?.last_seq ?? 0
}

/**
 * Authenticates a live connection with the same rules as REST (signature, expiry, live
 * session, not banned) and checks its `lastSeq`: a client cannot be ahead of the server
 * (it would silently skip events), so that is refused rather than guessed at.
 */
export async function authenticateLive(app: FastifyInstance, token: unknown, lastSeqInput: unknown): Promise<{ actor: Actor; lastSeq?: number }> {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096) throw Errors.unauthenticated('Pass the access token (auth.token for Socket.IO, ?token= for the feed)')
  let lastSeq: number | undefined
  if (lastSeqInput !== undefined && lastSeqInput !== null && lastSeqInput !== '') {
    lastSeq = typeof lastSeqInput === 'string' && /^\d{1,15}$/.test(lastSeqInput) ? Number(lastSeqInput) : (lastSeqInput as number)
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) {
      throw Errors.validation('lastSeq must be a whole number ≥ 0', [{ path: '/lastSeq', message: 'must be an integer >= 0' }])
    }
  }
  const actor = await resolveAccessToken(app, app.db, token)
  if (lastSeq !== undefined && lastSeq > (await latestSeq(app.db, actor.id))) {
    throw new AppError('LAST_SEQ_AHEAD', 409, 'lastSeq is ahead of the server; reconnect without it and reload from GET /v1/me/events?after=0')
  }
  return { actor, ...(lastSeq !== undefined ? { lastSeq } : {}) }
}

/**
 * Why a session is no longer live (`null` while it is): closes the race of a logout or a ban
 * committed while a handshake was in flight.
 */
export async function sessionEndReason(db: Db, actor: Actor): Promise<string | null> {
  const row = (await db('sessions as s').join('users as u', 'u.id', 's.user_id').where('s.id', actor.sessionId).first('s.revoked_at', 's.revoked_reason', 'u.banned_at')) as { revoked_at: Date | null; revoked_reason: string | null; banned_at: Date | null } | undefined
  if (!row) return 'session_ended'
  if (row.banned_at) return 'banned'
  if (row.revoked_at) return row.revoked_reason ?? 'session_ended'
  return null
}
