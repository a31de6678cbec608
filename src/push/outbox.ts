import { preparedRaw, type Db, type Knex } from '../db/index.js'
import type { AppendHook, StoredEvent } from '../events/index.js'
import type { TxCtx } from '../shared/index.js'

/** One push to queue: for a user, about one event. */
export type Pushable = {
  user_id: string
  seq: number
  notification_id: string | null
  kind: string
  source: unknown
  /**
   * Pushes of one thing share a key, so it is queued once: an offer's `offer` message and
   * its `offer` notification; within a transaction (`per_tx`), a want's answer message and
   * its `want_response` notification.
   */
  dedupe: string | null
  per_tx: boolean
}

type MessageData = {
  id: string
  conversationId: string
  senderId: string | null
  kind: string
  offer?: { id: string; status: string }
}
type NotificationData = { id: string; type: string; data: Record<string, unknown> | null }

/**
 * Which stored events push, to whom. A chat message pushes to its recipient (never its
 * sender's own copy); a notification pushes to its user, except `message` notifications,
 * whose chat message already pushed. Offer and order changes push through their
 * notifications (`offer`, `order_status`), which name who must hear of them, rather than
 * through `offer:updated` and `order:status`, which also reach the person who acted. Read
 * receipts, typing, unread counts and admin live events never push.
 */
export function pushableOf(e: StoredEvent): Pushable | null {
  if (e.event === 'message:new') {
    const m = e.data as MessageData
    if (!m.senderId || m.senderId === e.userId) return null
    const offer = m.kind === 'offer' && m.offer ? m.offer : null
    return {
      user_id: e.userId,
      seq: e.seq,
      notification_id: null,
      kind: offer ? 'offer' : 'message',
      source: m,
      dedupe: offer ? `offer:${offer.id}:${offer.status}` : `chat:${m.conversationId}`,
      per_tx: !offer,
    }
  }
  if (e.event === 'notification:new') {
    const n = e.data as NotificationData
    if (n.type === 'message') return null
    const d = n.data ?? {}
    const dedupe =
      n.type === 'offer'
        ? { dedupe: `offer:${String(d.offerId)}:${String(d.status)}`, per_tx: false }
        : n.type === 'want_response' && typeof d.conversationId === 'string'
          ? { dedupe: `chat:${d.conversationId}`, per_tx: true }
          : { dedupe: null, per_tx: false }
    return { user_id: e.userId, seq: e.seq, notification_id: n.id, kind: n.type, source: n, ...dedupe }
  }
  return null
}

/** What an append's events push (see `pushableOf`), one row each. */
export function pushablesOf(events: StoredEvent[]): Pushable[] {
  return events.map(pushableOf).filter((p): p is Pushable => p !== null)
}

/**
 * The INSERT ... SELECT that queues `rows` (only for users with a device), returning one row
 * per queued push: a statement of its own, or a data-modifying part of the append's (see
 * `pushHook`). Fixed text: it can be a named prepared statement.
 */
export function outboxInsert(
  db: Db,
  rows: Pushable[],
  opts: { prepared?: boolean } = {},
): Knex.Raw<{ rows: { id: string }[] }> {
  const bindings = [JSON.stringify(rows)]
  return opts.prepared ? preparedRaw(db, OUTBOX_SQL, bindings) : db.raw(OUTBOX_SQL, bindings)
}

const OUTBOX_SQL = `insert into push_outbox (user_id, event_seq, notification_id, kind, source, dedupe_key)
   select x.user_id, x.seq, x.notification_id, x.kind, x.source,
          case when x.per_tx then x.dedupe || ':' || txid_current()::text else x.dedupe end
     from jsonb_to_recordset(?::jsonb)
       as x(user_id uuid, seq bigint, notification_id uuid, kind text, source jsonb, dedupe text, per_tx boolean)
    where exists (select 1 from push_devices d where d.user_id = x.user_id)
   on conflict (user_id, dedupe_key) where dedupe_key is not null do nothing
   returning id`

/** After commit, the worker's kick when the transaction queued pushes. */
export function kickAfterCommit(tx: TxCtx, queued: number, kick: () => void): void {
  if (queued > 0)
    tx.db.executionPromise.then(
      () => kick(),
      () => {},
    )
}

/**
 * The spine hook that queues pushes: one outbox row per user and event, written by one
 * INSERT ... SELECT per append (none when nothing in it pushes), only for users with a
 * device. `queued` runs after the transaction commits (the worker's kick). (The push feature
 * registers `pushHook`, which writes these rows and the unread counts in one statement.)
 */
export function outboxHook(queued: () => void): AppendHook {
  return async (tx, events) => {
    const rows = pushablesOf(events)
    if (rows.length === 0) return
    const { rows: queuedRows } = await outboxInsert(tx.db, rows, { prepared: true })
    kickAfterCommit(tx, queuedRows.length, queued)
  }
}
