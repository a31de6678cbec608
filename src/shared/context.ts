import type { FastifyBaseLogger } from 'fastify'
import type { Db, Knex } from '../db/index.js'
import type { PendingEvent } from '../events/index.js'

export type Role = 'user' | 'admin'

/** Who is acting: the signed-in user behind a request or a socket. */
export type Actor = { id: string; role: Role; sessionId: string }

/** What every service function takes first (Vendure's ctx). */
export type Ctx = {
  db: Db
  actor?: Actor
  log: FastifyBaseLogger
  requestId?: string
}

/**
 * A context inside one open transaction; events appended here (and admin broadcasts) are
 * published after commit.
 */
export type TxCtx = Ctx & { db: Knex.Transaction; pending: PendingEvent[] }

export function isTxCtx(ctx: Ctx): ctx is TxCtx {
  return 'pending' in ctx
}
