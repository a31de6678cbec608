import type { Job } from '../jobs/index.js'
import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Knex } from '../db/index.js'
import { IdempotencyErrors } from './idempotency.errors.js'
import type { IdempotencyKeyRow } from './idempotency.tables.js'

export type IdempotencyMode = 'required' | 'optional'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `Idempotency-Key` handling: required (missing → 400) or accepted when present. */
    idempotency?: IdempotencyMode
  }
  interface FastifyRequest {
    idempotencyClaim?: IdempotencyClaim
    /** Set by the first idempotency hook to see the request, so a second registration (a feature's scope) does nothing. */
    idempotencySeen?: boolean
  }
}

type IdempotencyClaim = { userId: string; route: string; key: string; finished: boolean }

export type IdempotencyOptions = {
  db: Knex
  /** How long a duplicate waits for the first request to finish before 409 IN_PROGRESS. */
  waitMs?: number
  /** A claim without a response older than this is taken to be from a crashed node and taken over. */
  staleMs?: number
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/
const TTL = "interval '24 hours'"

/** Stable JSON: object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value && typeof value === 'object') {
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export function requestHash(req: Pick<FastifyRequest, 'method' | 'url' | 'body'>): string {
  return createHash('sha256')
    .update(`${req.method}\n${req.url}\n${canonical(req.body ?? null)}`)
    .digest('hex')
}

type KeyRow = Pick<IdempotencyKeyRow, 'request_hash' | 'status_code' | 'response_body' | 'location'> & {
  fresh: boolean
  stale: boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * `Idempotency-Key` for routes with `config.idempotency`. The key row is inserted in its own
 * committed statement before the handler runs, so of two concurrent duplicates exactly one
 * executes; the other waits for the stored response and replays it (or gets 409
 * IDEMPOTENCY_KEY_IN_PROGRESS). A response is stored with its status and exact body, and
 * replayed for the same key and request within 24 h; another request with the key gets 409
 * IDEMPOTENCY_KEY_REUSED. 5xx and 429 answers are not stored, so the client can retry.
 *
 * The app registers it once at its root; a feature may register it in its own scope too (the
 * request is then handled by the first hook only).
 */
export const idempotencyPlugin = fp(
  async (app: FastifyInstance, opts: IdempotencyOptions) => {
    const { db } = opts
    // The two statements every keyed request runs, as named prepared statements on PostgreSQL
    // (their text never changes): parsed and planned once per connection.
    const prepared = (statement: 'claim' | 'store') =>
      db.client.config.client === 'pg' ? { name: `oja_idempotency_${statement}` } : {}
    const waitMs = opts.waitMs ?? 5_000
    const staleMs = opts.staleMs ?? 120_000

    const replay = (reply: FastifyReply, row: KeyRow) => {
      const text =
        typeof row.response_body === 'string'
          ? row.response_body
          : row.response_body === null
            ? ''
            : JSON.stringify(row.response_body)
      reply.code(row.status_code!).header('idempotent-replayed', 'true')
      if (row.location) reply.header('location', row.location)
      if (text === '') return reply.send()
      return reply
        .type(row.status_code! >= 400 ? 'application/problem+json; charset=utf-8' : 'application/json; charset=utf-8')
        .send(text)
    }

    async function claim(
      userId: string,
      route: string,
      key: string,
      hash: string,
    ): Promise<'claimed' | KeyRow | undefined> {
      const inserted = await db('idempotency_keys')
        .insert({ user_id: userId, route, key, request_hash: hash })
        .onConflict(['user_id', 'route', 'key'])
        .ignore()
        .returning('key')
        .options(prepared('claim'))
      if (inserted.length > 0) return 'claimed'
      const { rows } = await db.raw<{ rows: KeyRow[] }>(
        `select request_hash, status_code, response_body, location,
                created_at > now() - ${TTL} as fresh,
                status_code is null and created_at < now() - (:staleMs * interval '1 millisecond') as stale
         from idempotency_keys where user_id = :userId and route = :route and key = :key`,
        { staleMs, userId, route, key },
      )
      return rows[0]
    }

    app.addHook('preHandler', async (req, reply) => {
      const mode = req.routeOptions.config?.idempotency
      if (!mode || req.idempotencySeen) return
      req.idempotencySeen = true
      const header = req.headers['idempotency-key']
      if (header === undefined) {
        if (mode === 'required') throw IdempotencyErrors.required()
        return
      }
      if (typeof header !== 'string' || !KEY_PATTERN.test(header)) throw IdempotencyErrors.invalid()
      if (!req.actor) throw IdempotencyErrors.unauthenticated()
      const userId = req.actor.id
      const route = `${req.method} ${req.routeOptions.url}`
      const hash = requestHash(req)
      const deadline = Date.now() + waitMs
      for (let attempt = 0; ; attempt++) {
        const state = await claim(userId, route, header, hash)
        if (state === 'claimed') {
          req.idempotencyClaim = { userId, route, key: header, finished: false }
          return
        }
        if (state === undefined) continue // the first request gave up its claim (5xx) in between
        if (!state.fresh) {
          // Older than 24 h: forget it and start afresh.
          await db('idempotency_keys')
            .where({ user_id: userId, route, key: header })
            .andWhereRaw(`created_at <= now() - ${TTL}`)
            .delete()
          continue
        }
        if (state.request_hash !== hash) throw IdempotencyErrors.reused()
        if (state.status_code !== null) return replay(reply, state)
        if (state.stale) {
          const taken = await db('idempotency_keys')
            .where({ user_id: userId, route, key: header })
            .whereNull('status_code')
            .andWhereRaw("created_at < now() - (? * interval '1 millisecond')", [staleMs])
            .update({ created_at: db.fn.now() })
          if (taken > 0) {
            req.idempotencyClaim = { userId, route, key: header, finished: false }
            return
          }
          continue
        }
        if (Date.now() >= deadline) throw IdempotencyErrors.inProgress()
        await sleep(Math.min(25 * 2 ** Math.min(attempt, 3), 200))
      }
    })

    const release = async (c: IdempotencyClaim) => {
      c.finished = true
      await db('idempotency_keys')
        .where({ user_id: c.userId, route: c.route, key: c.key })
        .whereNull('status_code')
        .delete()
    }

    app.addHook('onSend', async (req, reply, payload) => {
      const c = req.idempotencyClaim
      if (!c || c.finished) return payload
      const status = reply.statusCode
      if (
        status >= 500 ||
        status === 429 ||
        (payload !== null && payload !== undefined && typeof payload !== 'string')
      ) {
        await release(c)
        return payload
      }
      c.finished = true
      // The exact response text is kept (as a JSON string) so a replay is byte-identical.
      await db('idempotency_keys')
        .where({ user_id: c.userId, route: c.route, key: c.key })
        .update({
          status_code: status,
          response_body: JSON.stringify(typeof payload === 'string' ? payload : ''),
          location: typeof reply.getHeader('location') === 'string' ? String(reply.getHeader('location')) : null,
        })
        .options(prepared('store'))
      return payload
    })

    // A request that ended without a response (client gone, crash in a hook) frees its key.
    app.addHook('onResponse', async (req) => {
      const c = req.idempotencyClaim
      if (c && !c.finished) await release(c)
    })
  },
  { name: 'oja-idempotency' },
)

/** Background job: keys are kept 25 hours (clients may retry for 24), then deleted. */
export const purgeIdempotencyKeysJob: Job = {
  name: 'purge-idempotency-keys',
  run: (trx) => trx('idempotency_keys').where('created_at', '<', trx.raw("now() - interval '25 hours'")).delete(),
}
