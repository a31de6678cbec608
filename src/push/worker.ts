import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { blockedEitherWaySql } from '../accounts/index.js'
import { conversationMutedSql, type Presence } from '../chat/index.js'
import type { Knex } from '../db/index.js'
import { PollLoop } from '../jobs/index.js'
import type { Job } from '../jobs/index.js'
import { liveDevicesOf, toPushDevice } from './devices.js'
import { inQuietHours, preferencesOf } from './preferences.js'
import type { PushMessage, PushPlatform, PushResult, PushSender } from './providers.js'
import type { PushDeviceRow, PushOutboxRow } from './push.tables.js'
import { renderPush } from './render.js'
import { unreadOf } from './unread.js'

export type PushWorkerOptions = {
  db: Knex
  log: FastifyBaseLogger
  /** Read at each pass: the realtime layer's presence (who has a live connection on any node). */
  presence: () => Presence
  /** Read at each pass, so tests (and the merge of the real providers) can swap them. */
  senders: () => Record<PushPlatform, PushSender>
  /** Rows claimed per pass (PUSH_WORKER_BATCH). */
  batch: number
  /** Passes when nothing kicks (PUSH_POLL_INTERVAL_MS). */
  pollMs: number
  /** How long a claim is this worker's before another may take the row (a crashed node's rows come back). */
  leaseMs?: number
  /** A send that has not answered by then counts as a retry (well inside the lease). */
  sendTimeoutMs?: number
  /** A push not delivered by this age is given up (a day-old "new message" helps nobody). */
  maxAgeMs?: number
}

/** What one pass did. */
export type PushPass = {
  claimed: number
  sent: number
  dropped: number
  retrying: number
  failed: number
  gone: number
}

/** Back-off after the n-th failed attempt: 5 s, 10 s, 20 s, ... capped at one hour. */
export const pushBackoffMs = (attempts: number) => Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000)

/** How long a push lives on the device's push service when it is offline. */
const TTL_SECONDS = 24 * 3600

type Claimed = PushOutboxRow & { expired: boolean }
/** One device's delivery, ready to send. */
type Delivery = { outboxId: string; attempts: number; device: PushDeviceRow; message: PushMessage }
type Outcome =
  | { id: string; status: 'sent'; providerId: string | null; deviceId: string }
  | { id: string; status: 'pending'; error: string; delayMs: number }
  | { id: string; status: 'failed'; error: string }
  | { id: string; status: 'gone'; deviceId: string }

/** Runs `fn` over `items` with at most `limit` at once. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i]!)
    }
  })
  await Promise.all(lanes)
  return out
}

const errorText = (err: unknown) => String((err as Error)?.message ?? err).slice(0, 500)

/**
 * Delivers the push outbox. Rows are claimed in a short statement (FOR UPDATE SKIP LOCKED,
 * then a lease with this pass's token), so any number of nodes run workers and each row is
 * one worker's at a time; nothing is sent inside a transaction. A user's row is decided
 * (online anywhere, muted, switched off, blocked: dropped; quiet hours: silent) and expanded
 * into one row per device in one statement; each device row is then sent and its outcome
 * recorded: sent (the device's last push noted), gone (the device deleted, with anything
 * still queued for it), retry (back-off, or the provider's Retry-After), failed. A row
 * whose lease runs out (a crashed node) is claimed again.
 */
export class PushWorker {
  private readonly leaseMs: number
  private readonly sendTimeoutMs: number
  private readonly maxAgeMs: number
  private readonly loop: PollLoop

  constructor(private readonly opts: PushWorkerOptions) {
    this.leaseMs = opts.leaseMs ?? 60_000
    this.sendTimeoutMs = opts.sendTimeoutMs ?? Math.floor(this.leaseMs / 3)
    this.maxAgeMs = opts.maxAgeMs ?? 24 * 3600_000
    // A full batch means more is due: the next pass runs at once.
    this.loop = new PollLoop(async () => (await this.deliverDue()).claimed >= opts.batch, {
      pollMs: opts.pollMs,
      log: opts.log,
      name: 'push',
    })
  }

  start(): void {
    this.loop.start()
  }

  /** Runs a pass soon (after a push was queued and committed). */
  kick(): void {
    this.loop.kick()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** One pass: claims up to a batch of due rows and delivers them. */
  async deliverDue(): Promise<PushPass> {
    const token = randomUUID()
    const claimed = await this.claim(token)
    const pass: PushPass = { claimed: claimed.length, sent: 0, dropped: 0, retrying: 0, failed: 0, gone: 0 }
    if (claimed.length === 0) return pass
    const outcomes: Outcome[] = claimed
      .filter((r) => r.expired)
      .map((r) => ({ id: r.id, status: 'failed', error: 'expired: not delivered within a day' }))
    const live = claimed.filter((r) => !r.expired)

    const { deliveries: fresh, drops, retries } = await this.decide(live.filter((r) => r.device_id === null))
    outcomes.push(...retries)
    pass.dropped = drops.length
    await this.drop(token, drops)
    const deliveries = [
      ...(await this.expand(token, fresh)),
      ...(await this.redeliveries(
        live.filter((r) => r.device_id !== null),
        outcomes,
      )),
    ]
    outcomes.push(...(await mapLimit(deliveries, 16, (d) => this.send(d))))
    await this.record(token, outcomes)
    for (const o of outcomes) {
      if (o.status === 'sent') pass.sent++
      else if (o.status === 'gone') pass.gone++
      else if (o.status === 'failed') pass.failed++
      else pass.retrying++
    }
    return pass
  }

  private async claim(token: string): Promise<Claimed[]> {
    const { rows } = await this.opts.db.raw<{ rows: Claimed[] }>(
      `with due as (
         select id from push_outbox
          where status = 'pending' and next_attempt_at <= now()
            and (claimed_until is null or claimed_until < now())
          order by next_attempt_at, id
          limit :batch
          for update skip locked
       )
       update push_outbox o
          set claimed_until = now() + :leaseMs * interval '1 millisecond', claim_token = :token, attempts = o.attempts + 1
         from due where o.id = due.id
       returning o.*, o.created_at < now() - :maxAgeMs * interval '1 millisecond' as expired`,
      { batch: this.opts.batch, leaseMs: this.leaseMs, token, maxAgeMs: this.maxAgeMs },
    )
    return rows
  }

  /**
   * Decides about users' rows: whom to push (and what), what to drop and why. Presence is
   * asked when the push is sent, not when the event was written (the user may have come
   * back meanwhile, or gone).
   */
  private async decide(rows: Claimed[]): Promise<{
    deliveries: { row: Claimed; devices: PushDeviceRow[]; message: PushMessage }[]
    drops: { id: string; reason: string }[]
    retries: Outcome[]
  }> {
    const deliveries: { row: Claimed; devices: PushDeviceRow[]; message: PushMessage }[] = []
    const drops: { id: string; reason: string }[] = []
    const retries: Outcome[] = []
    if (rows.length === 0) return { deliveries, drops, retries }
    const { db } = this.opts
    const users = [...new Set(rows.map((r) => r.user_id))]
    const presence = this.opts.presence()
    const [online, preferences, devices, unread] = await Promise.all([
      Promise.all(users.map((u) => presence.isOnline(u).catch(() => false))),
      preferencesOf(db, users),
      liveDevicesOf(db, users),
      unreadOf(db, users),
    ])
    const onlineUsers = new Set(users.filter((_, i) => online[i]))
    const now = new Date()
    await mapLimit(rows, 4, async (row) => {
      const prefs = preferences.get(row.user_id)!
      const mine = devices.get(row.user_id) ?? []
      if (onlineUsers.has(row.user_id)) return void drops.push({ id: row.id, reason: 'online' })
      if (mine.length === 0) return void drops.push({ id: row.id, reason: 'no device' })
      if (prefs.push[row.kind] === false) return void drops.push({ id: row.id, reason: 'switched off' })
      try {
        const rendered = await renderPush(db, row.user_id, row)
        if (!rendered) return void drops.push({ id: row.id, reason: 'gone' })
        if (rendered.conversationId || rendered.peerId) {
          const { rows: checks } = await db.raw<{ rows: { muted: boolean; blocked: boolean }[] }>(
            `select ${rendered.conversationId ? conversationMutedSql(':conversationId::uuid', ':userId::uuid') : 'false'} as muted,
                    ${rendered.peerId ? blockedEitherWaySql(':userId::uuid', ':peerId::uuid') : 'false'} as blocked`,
            { conversationId: rendered.conversationId ?? null, userId: row.user_id, peerId: rendered.peerId ?? null },
          )
          if (checks[0]?.muted) return void drops.push({ id: row.id, reason: 'muted' })
          if (checks[0]?.blocked) return void drops.push({ id: row.id, reason: 'blocked' })
        }
        const counts = unread.get(row.user_id)
        const quiet = inQuietHours(prefs.quietHours, now)
        deliveries.push({
          row,
          devices: mine,
          message: {
            title: rendered.title,
            body: rendered.body,
            data: rendered.data,
            ...(rendered.collapseKey ? { collapseKey: rendered.collapseKey } : {}),
            badge: (counts?.messages ?? 0) + (counts?.notifications ?? 0),
            // Quiet hours: the push still comes (the badge is right in the morning) but makes no sound or banner.
            ...(quiet ? { silent: true } : {}),
            ttlSeconds: TTL_SECONDS,
          },
        })
      } catch (err) {
        this.opts.log.warn({ err, outboxId: row.id }, 'push not prepared; will retry')
        retries.push({ id: row.id, status: 'pending', error: errorText(err), delayMs: pushBackoffMs(row.attempts) })
      }
    })
    return { deliveries, drops, retries }
  }

  private async drop(token: string, drops: { id: string; reason: string }[]): Promise<void> {
    if (drops.length === 0) return
    await this.opts.db.raw(
      `update push_outbox o set status = 'dropped', last_error = x.reason, claimed_until = null, claim_token = null
         from jsonb_to_recordset(?::jsonb) as x(id uuid, reason text)
        where o.id = x.id and o.claim_token = ?`,
      [JSON.stringify(drops), token],
    )
  }

  /**
   * Turns users' rows into one row per device, in one statement: only rows still claimed by
   * this pass (a lease that ran out belongs to whoever claimed the row since), and only
   * devices that still exist. The new rows are claimed by this pass already.
   */
  private async expand(
    token: string,
    deliveries: { row: Claimed; devices: PushDeviceRow[]; message: PushMessage }[],
  ): Promise<Delivery[]> {
    if (deliveries.length === 0) return []
    const input = deliveries.flatMap((d) =>
      d.devices.map((device) => ({ parent_id: d.row.id, device_id: device.id, payload: d.message })),
    )
    const { rows } = await this.opts.db.raw<{
      rows: Pick<PushOutboxRow, 'id' | 'parent_id' | 'device_id' | 'attempts'>[]
    }>(
      `with mine as (
         update push_outbox o set status = 'expanded', claimed_until = null, claim_token = null
          where o.id = any(:parents::uuid[]) and o.claim_token = :token and o.status = 'pending'
         returning o.id, o.user_id, o.kind, o.event_seq, o.notification_id, o.created_at
       ), input as (
         select * from jsonb_to_recordset(:input::jsonb) as x(parent_id uuid, device_id uuid, payload jsonb)
       )
       insert into push_outbox (user_id, device_id, parent_id, kind, event_seq, notification_id, payload,
                                attempts, next_attempt_at, claimed_until, claim_token, created_at)
       select m.user_id, i.device_id, m.id, m.kind, m.event_seq, m.notification_id, i.payload,
              1, now(), now() + :leaseMs * interval '1 millisecond', :token, m.created_at
         from input i
         join mine m on m.id = i.parent_id
         join push_devices d on d.id = i.device_id and d.user_id = m.user_id
       returning id, parent_id, device_id, attempts`,
      { parents: deliveries.map((d) => d.row.id), token, input: JSON.stringify(input), leaseMs: this.leaseMs },
    )
    const planned = new Map(
      deliveries.flatMap((d) => d.devices.map((device) => [`${d.row.id}:${device.id}`, { device, d }])),
    )
    return rows.map((r) => {
      const { device, d } = planned.get(`${r.parent_id}:${r.device_id}`)!
      return { outboxId: r.id, attempts: r.attempts, device, message: d.message }
    })
  }

  /** Device rows claimed again (a retry, or a crashed worker's): their devices, when their sessions still live. */
  private async redeliveries(rows: Claimed[], outcomes: Outcome[]): Promise<Delivery[]> {
    if (rows.length === 0) return []
    const deviceRows: PushDeviceRow[] = await this.opts
      .db('push_devices as d')
      .join('sessions as s', 's.id', 'd.session_id')
      .whereIn(
        'd.id',
        rows.map((r) => r.device_id!),
      )
      .whereNull('s.revoked_at')
      .andWhere('s.expires_at', '>', this.opts.db.fn.now())
      .select('d.*')
    const byId = new Map(deviceRows.map((d) => [d.id, d]))
    const out: Delivery[] = []
    for (const row of rows) {
      const device = byId.get(row.device_id!)
      if (!device || device.user_id !== row.user_id)
        outcomes.push({ id: row.id, status: 'failed', error: 'session ended' })
      else out.push({ outboxId: row.id, attempts: row.attempts, device, message: row.payload as PushMessage })
    }
    return out
  }

  private async send(d: Delivery): Promise<Outcome> {
    const sender = this.opts.senders()[d.device.platform]
    let result: PushResult
    try {
      let timer: NodeJS.Timeout | undefined
      result = await Promise.race([
        sender.send(toPushDevice(d.device), d.message),
        new Promise<PushResult>((resolve) => {
          timer = setTimeout(
            () => resolve({ outcome: 'retry', error: `no answer within ${this.sendTimeoutMs} ms` }),
            this.sendTimeoutMs,
          )
          timer.unref()
        }),
      ]).finally(() => clearTimeout(timer))
    } catch (err) {
      result = { outcome: 'retry', error: errorText(err) }
    }
    switch (result.outcome) {
      case 'sent':
        return { id: d.outboxId, status: 'sent', providerId: result.providerId ?? null, deviceId: d.device.id }
      case 'gone':
        return { id: d.outboxId, status: 'gone', deviceId: d.device.id }
      case 'failed':
        this.opts.log.warn({ outboxId: d.outboxId, error: result.error }, 'push failed')
        return { id: d.outboxId, status: 'failed', error: result.error.slice(0, 500) }
      case 'retry': {
        const delayMs =
          result.retryAfterMs !== undefined
            ? Math.min(Math.max(result.retryAfterMs, 1_000), 3_600_000)
            : pushBackoffMs(d.attempts)
        return { id: d.outboxId, status: 'pending', error: result.error.slice(0, 500), delayMs }
      }
    }
  }

  /** Writes the pass's outcomes (rows still claimed by this pass only), notes sent devices, deletes gone ones. */
  private async record(token: string, outcomes: Outcome[]): Promise<void> {
    const { db } = this.opts
    const updates = outcomes
      .filter((o) => o.status !== 'gone')
      .map((o) => ({
        id: o.id,
        status: o.status,
        error: 'error' in o ? o.error : null,
        delay_ms: 'delayMs' in o ? o.delayMs : null,
        provider_id: 'providerId' in o ? o.providerId : null,
      }))
    if (updates.length > 0)
      await db.raw(
        `update push_outbox o set
           status = case when x.status = 'pending' and o.created_at < now() - :maxAgeMs * interval '1 millisecond'
                         then 'failed' else x.status end,
           last_error = x.error,
           sent_at = case when x.status = 'sent' then now() else o.sent_at end,
           provider_id = coalesce(x.provider_id, o.provider_id),
           next_attempt_at = case when x.status = 'pending' then now() + x.delay_ms * interval '1 millisecond'
                                  else o.next_attempt_at end,
           claimed_until = null, claim_token = null
         from jsonb_to_recordset(:updates::jsonb) as x(id uuid, status text, error text, delay_ms bigint, provider_id text)
        where o.id = x.id and o.claim_token = :token`,
        { updates: JSON.stringify(updates), token, maxAgeMs: this.maxAgeMs },
      )
    const sent = outcomes.flatMap((o) => (o.status === 'sent' ? [o.deviceId] : []))
    if (sent.length > 0) await db('push_devices').whereIn('id', sent).update({ last_push_at: db.fn.now() })
    // A token the push service no longer knows: the device goes, and whatever was queued for it.
    const gone = outcomes.flatMap((o) => (o.status === 'gone' ? [o.deviceId] : []))
    if (gone.length > 0) {
      await db('push_devices').whereIn('id', gone).delete()
      this.opts.log.info({ devices: gone }, 'push devices gone: removed')
    }
  }
}

/**
 * Background job: finished pushes go after a week; devices of sessions that ended without a
 * revoke (expired) go too.
 */
export const purgePushJob: Job = {
  name: 'purge-push',
  run: async (trx) => {
    const outbox = await trx('push_outbox')
      .whereNot('status', 'pending')
      .andWhere('created_at', '<', trx.raw("now() - interval '7 days'"))
      .delete()
    const devices = await trx('push_devices')
      .whereIn(
        'session_id',
        trx('sessions').select('id').whereNotNull('revoked_at').orWhere('expires_at', '<', trx.fn.now()),
      )
      .delete()
    return outbox + devices
  },
}
