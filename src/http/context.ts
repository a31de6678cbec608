import type { FastifyRequest } from 'fastify'
import type { Knex } from '../db/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors } from '../shared/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Knex
  }
}

/** The service context of a request. */
export function ctxOf(req: FastifyRequest): Ctx {
  return { db: req.server.db, actor: req.actor, log: req.log, requestId: req.id }
}

/** The service context of a request that must be signed in (route config `auth`). */
export function actorCtx(req: FastifyRequest): Ctx & { actor: Actor } {
  if (!req.actor) throw Errors.unauthenticated()
  return { db: req.server.db, actor: req.actor, log: req.log, requestId: req.id }
}
