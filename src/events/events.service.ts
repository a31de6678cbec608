import type { Job } from '../jobs/index.js'
import { preparedRaw, type Knex } from '../db/index.js'
import { insertNotifications, type NotificationDataOf, type NotificationType } from '../notifications/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { isTxCtx } from '../shared/index.js'
import type { UserEventRow } from './events.tables.js'
import { isAdminBroadcast } from './events.types.js'
import type {
  AdminBroadcast,
  AdminEventName,
  AdminEvents,
  PendingEvent,
  Publisher,
  StoredEvent,
} from './events.types.js'

export type NewEvent = { userId: string; event: string; data: unknown }
/** A notification as `notify` returns it. */
export type NewNotification = {
  id: string
  userId: string
  type: string
  data: unknown
  readAt: Date | null
  createdAt: Date
}

type AppendedRow = UserEventRow & { alongside_rows?: number }

const toStored = (r: UserEventRow): StoredEvent => ({
  userId: r.user_id,
  seq: r.seq,
  event: r.event,
  data: r.data,
  createdAt: r.created_at,
})

/**
 * Runs after every append, in the appending transaction, with the events just stored (other
 * features derive their own rows from them: push's outbox, unread counts). A hook that
 * appends events itself is called again with those: it must ignore what it appended.
 */
export type AppendHook = (tx: TxCtx, events: StoredEvent[]) => Promise<void>

/**
 * The event spine: user-facing events are written in the same transaction as the change
 * that causes them, each with the user's next `seq`, and published only after commit.
 */
export class EventSpine {
  private readonly hooks: AppendHook[] = []

  constructor(private readonly publisher: Publisher) {}

  /**
   * Registers a hook run after each append in the same transaction (a feature reacting to
   * events without the events module knowing it). Hooks run in registration order; one that
   * throws rolls the transaction back, like any other statement of it.
   */
  onAppend(hook: AppendHook): void {
    this.hooks.push(hook)
  }

  /**
   * Runs `fn` in one transaction (or inside the caller's, when ctx already has one) and
   * publishes the events it appended once the outermost transaction has committed.
   */
  async transaction<T>(ctx: Ctx, fn: (tx: TxCtx) => Promise<T>): Promise<T> {
    if (isTxCtx(ctx)) return fn(ctx)
    const pending: PendingEvent[] = []
    const result = await (ctx.db as Knex).transaction((trx) => fn({ ...ctx, db: trx, pending }))
    if (pending.length > 0) this.publish(ctx, pending)
    return result
  }

  /** Hands a committed transaction's events to the publisher: stored events, then admin broadcasts. */
  publish(ctx: Pick<Ctx, 'log'>, events: PendingEvent[]): void {
    const stored: StoredEvent[] = []
    const admins: AdminBroadcast[] = []
    for (const e of events) {
      if (isAdminBroadcast(e)) admins.push(e)
      else stored.push(e)
    }
    try {
      if (stored.length > 0) this.publisher.publish(stored)
    } catch (err) {
      // Live delivery is best effort: the events are stored and reach clients on resync.
      ctx.log.warn({ err }, 'event publish failed')
    }
    try {
      if (admins.length > 0) this.publisher.toAdmins?.(admins)
    } catch (err) {
      // Not stored: an admin whose console missed one sees it when the queue is next loaded.
      ctx.log.warn({ err }, 'admin broadcast failed')
    }
  }

  /**
   * An event for every admin's live connections on every node (the console's queues appear
   * live), sent once the transaction commits and never if it rolls back. It is not stored
   * per admin and has no `seq`.
   */
  toAdmins<E extends AdminEventName>(tx: TxCtx, event: E, data: AdminEvents[E]): void {
    tx.pending.push({ audience: 'admins', event, data } as AdminBroadcast)
  }

  /** Drops live connections of a user or one session, on every node (after the change committed). */
  disconnect(ctx: Pick<Ctx, 'log'>, target: { userId: string; sessionId?: string; reason: string }): void {
    try {
      this.publisher.disconnect?.(target)
    } catch (err) {
      ctx.log.warn({ err }, 'disconnect failed')
    }
  }

  /** Appends events for any users in one statement; seqs are taken per user in input order. */
  async append(tx: TxCtx, events: NewEvent[]): Promise<StoredEvent[]> {
    if (events.length === 0) return []
    const input = JSON.stringify(
      events.map((e, ord) => ({ user_id: e.userId, event: e.event, data: e.data ?? null, ord })),
    )
    return this.appendSelect(
      tx,
      tx.db.raw('select * from jsonb_to_recordset(?::jsonb) as x(user_id uuid, event text, data jsonb, ord int)', [
        input,
      ]),
      { prepared: true },
    )
  }

  /**
   * Appends the events a query selects, in one statement: `source` selects `user_id` (uuid),
   * `event` (text), `data` (jsonb) and `ord` (int: the order of a user's events). Events whose
   * data the database computes (unread counts) cost no extra round trip. `prepared`: a named
   * prepared statement (see `preparedRaw`), only when `source` is fixed text (no query builder).
   */
  async appendSelect(tx: TxCtx, source: Knex.Raw, opts: { prepared?: boolean } = {}): Promise<StoredEvent[]> {
    return (await this.appendSelectAlongside(tx, source, undefined, opts)).stored
  }

  /**
   * `appendSelect`, with `alongside`, a data-modifying statement with a RETURNING clause that
   * runs in the same statement (a hook's own rows written without another round trip; it
   * cannot see the events appended here). Answers the events and how many rows `alongside`
   * returned.
   */
  async appendSelectAlongside(
    tx: TxCtx,
    source: Knex.Raw,
    alongside: Knex.Raw | undefined,
    opts: { prepared?: boolean } = {},
  ): Promise<{ stored: StoredEvent[]; alongside: number }> {
    const run = opts.prepared
      ? (sql: string, b: Knex.RawBinding[]) => preparedRaw<{ rows: AppendedRow[] }>(tx.db, sql, b)
      : (sql: string, b: Knex.RawBinding[]) => tx.db.raw<{ rows: AppendedRow[] }>(sql, b)
    const { rows } = await run(
      `with ${alongside ? 'alongside as (?), ' : ''}input as (
         select user_id, event, data, ord from (?) as s
       ), counts as (
         select user_id, count(*)::bigint as n from input group by user_id
       ), bumped as (
         insert into user_event_counters as c (user_id, last_seq)
         select user_id, n from counts order by user_id
         on conflict (user_id) do update set last_seq = c.last_seq + excluded.last_seq
         returning c.user_id, c.last_seq
       ), numbered as (
         select i.user_id, i.event, i.data,
                b.last_seq - c.n + row_number() over (partition by i.user_id order by i.ord) as seq
         from input i join bumped b using (user_id) join counts c using (user_id)
       )
       insert into user_events (user_id, seq, event, data)
       select user_id, seq, event, data from numbered order by user_id, seq
       returning user_id, seq, event, data, created_at${alongside ? ', (select count(*) from alongside)::int as alongside_rows' : ''}`,
      alongside ? [alongside, source] : [source],
    )
    if (rows.length === 0) return { stored: [], alongside: 0 }
    const stored = rows
      .map(toStored)
      .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.seq - b.seq))
    tx.pending.push(...stored)
    for (const hook of this.hooks) await hook(tx, stored)
    return { stored, alongside: rows[0]!.alongside_rows ?? 0 }
  }

  /**
   * Creates one notification per target user and its `notification:new` event: two
   * set-based statements whatever the number of users (a price drop may reach thousands).
   * `targets` is a list of user ids or a subquery selecting a `user_id` column; with `data`
   * `'per row'` it is a subquery selecting `user_id` and a jsonb `data` column, one row per
   * notification. `type` and `data` are typed by the notification schemas
   * (src/notifications/notifications.schemas.ts): a type or a field they do not describe
   * does not compile (per-row data is built in SQL: keep it to the same schema).
   */
  async notify<T extends NotificationType>(
    tx: TxCtx,
    targets: string[] | Knex.QueryBuilder | Knex.Raw,
    type: T,
    data: NotificationDataOf<T> | 'per row',
  ): Promise<NewNotification[]> {
    if (Array.isArray(targets) && targets.length === 0) return []
    const source = Array.isArray(targets)
      ? tx.db.raw('select distinct unnest(?::uuid[]) as user_id', [targets])
      : data === 'per row'
        ? tx.db.raw('select user_id, data from (?) as t', [targets])
        : tx.db.raw('select distinct user_id from (?) as t', [targets])
    // The notifications are that feature's rows, stored in this transaction.
    const rows = await insertNotifications(tx.db, source, type, data)
    const notifications = rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      type: r.type,
      data: r.data,
      readAt: r.read_at,
      createdAt: r.created_at,
    }))
    await this.append(
      tx,
      notifications.map((n) => ({
        userId: n.userId,
        event: 'notification:new',
        data: { id: n.id, type: n.type, data: n.data, readAt: null, createdAt: n.createdAt },
      })),
    )
    return notifications
  }
}

/** Background job: events older than the resync window (8 days) are deleted. */
export const purgeOldEventsJob: Job = {
  name: 'purge-old-events',
  run: (trx) => trx('user_events').where('created_at', '<', trx.raw("now() - interval '8 days'")).delete(),
}
