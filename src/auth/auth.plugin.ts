import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { SessionRow, UserRow } from '../accounts/index.js'
import type { Knex } from '../db/index.js'
import type { Actor, Role } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { AuthErrors } from './auth.errors.js'

export type AuthMode = 'required' | 'optional' | 'admin'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: signed in, anyone (actor when signed in), or admins only. */
    auth?: AuthMode
    rawBody?: boolean
  }
  interface FastifyRequest {
    actor?: Actor
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; sid: string; role: Role }
    user: { sub: string; sid: string; role: Role }
  }
}

/** What the access-token check reads: the session's state and its user's role and ban. */
type LiveSession = Pick<SessionRow, 'user_id' | 'revoked_at' | 'expires_at'> & {
  role: Role
  banned_at: UserRow['banned_at']
}

/**
 * Resolves a bearer access token to an actor. The JWT proves who signed in; one primary-key
 * lookup then checks the user is not banned (403 ACCOUNT_BANNED) and the session is live (401
 * SESSION_REVOKED), so logout and bans take effect at once rather than when the token expires.
 */
export async function resolveAccessToken(app: FastifyInstance, db: Knex, token: string): Promise<Actor> {
  let claims: { sub: string; sid: string; role: Role }
  try {
    claims = app.jwt.verify(token)
  } catch (err) {
    const expired = (err as { code?: string }).code === 'FAST_JWT_EXPIRED'
    throw expired ? AuthErrors.tokenExpired() : Errors.unauthenticated('The access token is not valid')
  }
  const row = await db('sessions as s')
    .join('users as u', 'u.id', 's.user_id')
    .where('s.id', claims.sid)
    .first<LiveSession | undefined>('s.user_id', 'u.role', 'u.banned_at', 's.revoked_at', 's.expires_at')
  if (!row || row.user_id !== claims.sub) throw AuthErrors.sessionRevoked()
  // A ban also ends every session: it is answered first, so an app can tell "suspended"
  // (403 ACCOUNT_BANNED) from "signed out" (401 SESSION_REVOKED).
  if (row.banned_at) throw AuthErrors.banned()
  if (row.revoked_at || row.expires_at < new Date()) throw AuthErrors.sessionRevoked()
  return { id: row.user_id, role: row.role, sessionId: claims.sid }
}

function bearer(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization
  if (!header) return undefined
  const match = /^Bearer\s+(\S+)$/i.exec(header)
  if (!match) throw Errors.unauthenticated('Use the Authorization: Bearer <accessToken> header')
  return match[1]
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { secret: string; accessTtlSeconds: number; db: Knex }) => {
    await app.register(fastifyJwt, { secret: opts.secret, sign: { expiresIn: opts.accessTtlSeconds } })
    app.decorateRequest('actor', undefined)
    app.addHook('onRequest', async (req) => {
      const mode = req.routeOptions.config?.auth
      if (!mode) return
      const token = bearer(req)
      if (!token) {
        if (mode === 'optional') return
        throw Errors.unauthenticated()
      }
      req.actor = await resolveAccessToken(app, opts.db, token)
      if (mode === 'admin' && req.actor.role !== 'admin') throw Errors.forbidden('Admins only')
    })
  },
  { name: 'oja-auth' },
)
