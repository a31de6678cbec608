import { AccountErrors, blockedEitherWaySql, findUser, isBlockedEitherWay, type UserRow } from '../accounts/index.js'
import { SESSION_ENDS_SQL, sessionEndedError, sessionEnds } from '../auth/index.js'
import { GroupCommit, preparedRaw, type Db, type GroupCommitOptions, type ItemOutcome } from '../db/index.js'
import { HttpErrors } from '../http/index.js'
import type { EventSpine } from '../events/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { decodeCursor, encodeCursor } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { ListingErrors, findListing, isListingOnSale, isListingVisibleTo, type ListingRow } from '../listings/index.js'
import { WantErrors, findWant, isWantVisibleTo } from '../wants/index.js'
import { ChatErrors } from './chat.errors.js'
import { hydrateMessages, toMessage, type ConversationRow, type MessageRow } from './chat.model.js'
import type { ConversationReadRow, MessageImageRow } from './chat.tables.js'
import type { Conversation, Message, OpenConversationBody, ReadReceipt } from './chat.schemas.js'
import type { Presence } from './presence.js'
import type { SendLimiter } from './send-limiter.js'

export type ActorCtx = Ctx & { actor: Actor }

export type ChatDeps = {
  spine: EventSpine
  /** Read at each send, so the realtime layer can plug in after the feature is built. */
  presence: Presence
  sendLimiter: SendLimiter
  /** Read receipts (REST and the socket's `conversation:read`) per user. */
  readLimiter: SendLimiter
  /**
   * Group commit of text sends (see storeTexts): at most `maxBatch` messages per transaction,
   * `maxInFlight` such transactions at once per node, and `maxWaiting` sends waiting for one
   * before new sends are refused OVERLOADED (CHAT_SEND_QUEUE; 0: no bound); a send that waited
   * more than `maxWaitMs` is refused OVERLOADED rather than stored late. Defaults 100, 1, 150, 200 ms.
   */
  sendBatch?: GroupCommitOptions
}

/** A conversation's other party, listing and unread count, as its view shows them (one statement for a page). */
type ConversationDetail = Pick<ConversationRow, 'id'> & {
  other_id: UserRow['id']
  other_name: UserRow['name']
  other_avatar: UserRow['avatar_url']
  l_id: ListingRow['id'] | null
  l_title: ListingRow['title']
  l_price: ListingRow['price']
  l_currency: ListingRow['currency']
  l_status: ListingRow['status']
  l_seller: ListingRow['seller_id']
  unread: number
  muted: boolean
}

const otherParty = (c: Pick<ConversationRow, 'buyer_id' | 'seller_id'>, me: string) =>
  c.buyer_id === me ? c.seller_id : c.buyer_id
const partiesOf = (rows: Pick<ConversationRow, 'id' | 'buyer_id' | 'seller_id'>[]) =>
  new Map(rows.map((c) => [c.id, { buyer_id: c.buyer_id, seller_id: c.seller_id }]))

/**
 * Whether message `m` is unread by user `me` whose read pointer in its conversation is `r`
 * (a left-joined conversation_reads row), as SQL: sent by someone else, after the pointer.
 * The one rule of the conversation list's `unreadCount` and of the badge's counts.
 */
export function unreadMessageSql(m: string, r: string, me: string): string {
  return `${m}.sender_id is distinct from ${me} and (${r}.message_id is null or (${m}.created_at, ${m}.id) > (${r}.message_created_at, ${r}.message_id))`
}

/**
 * A user's unread chat, as a subquery of one row (`messages`: unread messages addressed to
 * them, `conversations`: conversations with any); `me` is an SQL expression naming the user.
 * Conversations read up to their last message are skipped without counting.
 */
export function unreadChatSql(me: string): string {
  return `select coalesce(sum(x.n), 0)::int as messages, (count(*) filter (where x.n > 0))::int as conversations
    from (
      select (select count(*) from messages m where m.conversation_id = c.id and ${unreadMessageSql('m', 'r', me)}) as n
        from conversations c
        left join conversation_reads r on r.conversation_id = c.id and r.user_id = ${me}
       where (c.buyer_id = ${me} or c.seller_id = ${me})
         and c.last_message_at is not null
         and (r.message_id is null or c.last_message_at > r.message_created_at)
    ) as x`
}

/** Whether user `me` muted conversation `conversation` (both SQL expressions). */
export function conversationMutedSql(conversation: string, me: string): string {
  return `exists (select 1 from conversation_mutes mu where mu.user_id = ${me} and mu.conversation_id = ${conversation})`
}

/** The conversation when `userId` is one of its two participants; otherwise 404 (existence is not revealed). */
export async function participantConversation(
  db: Db,
  conversationId: string,
  userId: string,
  opts: { lock?: boolean } = {},
): Promise<ConversationRow> {
  const query = db('conversations')
    .where('id', conversationId)
    .andWhere((q) => q.where('buyer_id', userId).orWhere('seller_id', userId))
    .first('*')
  if (opts.lock) query.forUpdate()
  const row = await query
  if (!row) throw ChatErrors.conversationNotFound()
  return row
}

/** Locks a conversation for a send, with the participant check and whether either side blocked the other. */
async function lockForSend(
  tx: TxCtx,
  conversationId: string,
  senderId: string,
): Promise<{ conversation: ConversationRow; blocked: boolean }> {
  const { rows } = await tx.db.raw<{ rows: (ConversationRow & { blocked: boolean })[] }>(
    `select c.*, ${blockedEitherWaySql('c.buyer_id', 'c.seller_id')} as blocked
       from conversations c
      where c.id = ? and ? in (c.buyer_id, c.seller_id)
        for update of c`,
    [conversationId, senderId],
  )
  const row = rows[0]
  if (!row) throw ChatErrors.conversationNotFound()
  const { blocked, ...conversation } = row
  return { conversation, blocked }
}

/**
 * Appends a message to a conversation whose row the transaction has locked, in one
 * statement. Its time is strictly after the previous message's, so (created_at, id) order
 * is the commit order within a conversation (read pointers and `before=` paging rely on it).
 * Returns null when this sender already used the clientId here (nothing is stored).
 */
export async function insertMessage(
  tx: TxCtx,
  conversation: Pick<ConversationRow, 'id'>,
  message: {
    senderId: string | null
    kind: MessageRow['kind']
    body: string
    offerId?: string | null
    clientId?: string | null
    image?: MessageImageRow | null
  },
): Promise<MessageRow | null> {
  const { rows } = await tx.db.raw<{ rows: MessageRow[] }>(
    `with stamp as (
       select greatest(date_trunc('milliseconds', clock_timestamp()),
                       coalesce(last_message_at + interval '1 millisecond', '-infinity'::timestamptz)) as t
         from conversations where id = :conversationId
     ), inserted as (
       insert into messages (conversation_id, sender_id, kind, body, offer_id, image, client_id, created_at)
       select :conversationId, :senderId, :kind, :body, :offerId, :image::jsonb, :clientId, stamp.t from stamp
       on conflict (conversation_id, sender_id, client_id) where client_id is not null do nothing
       returning *
     ), bumped as (
       update conversations c set last_message_at = i.created_at, last_activity_at = greatest(c.last_activity_at, i.created_at)
         from inserted i where c.id = i.conversation_id
     )
     select * from inserted`,
    {
      conversationId: conversation.id,
      senderId: message.senderId,
      kind: message.kind,
      body: message.body,
      offerId: message.offerId ?? null,
      image: message.image ? JSON.stringify(message.image) : null,
      clientId: message.clientId ?? null,
    },
  )
  return rows[0] ?? null
}

/**
 * The conversation between a buyer and a seller about a listing, now about `wantId` too (a
 * seller answering a want with that listing), in the caller's transaction. Creates it, or
 * locks the existing one and sets its want when it had none (a want it is already about
 * stays). `previousWantId` is the want it was about before this call (null when new).
 */
export async function openListingConversation(
  db: Db,
  pair: { listingId: string; wantId: string; buyerId: string; sellerId: string },
): Promise<{ id: string; created: boolean; previousWantId: string | null }> {
  const inserted = await db.raw<{ rows: Pick<ConversationRow, 'id'>[] }>(
    `insert into conversations (listing_id, want_id, buyer_id, seller_id) values (:listingId, :wantId, :buyerId, :sellerId)
     on conflict (listing_id, buyer_id, seller_id) where listing_id is not null do nothing
     returning id`,
    pair,
  )
  if (inserted.rows[0]) return { id: inserted.rows[0].id, created: true, previousWantId: null }
  const existing = (await db('conversations')
    .where({ listing_id: pair.listingId, buyer_id: pair.buyerId, seller_id: pair.sellerId })
    .forUpdate()
    .first('id', 'want_id'))!
  if (existing.want_id === null) await db('conversations').where('id', existing.id).update({ want_id: pair.wantId })
  return { id: existing.id, created: false, previousWantId: existing.want_id }
}

/** Chat: conversations, messages, read receipts, and who may type to whom. */
export function createChatService(deps: ChatDeps) {
  const { spine } = deps

  async function views(db: Db, me: string, convs: ConversationRow[]): Promise<Conversation[]> {
    if (convs.length === 0) return []
    const ids = convs.map((c) => c.id)
    const [details, last] = await Promise.all([
      db.raw<{ rows: ConversationDetail[] }>(
        `select c.id, u.id as other_id, u.name as other_name, u.avatar_url as other_avatar,
                l.id as l_id, l.title as l_title, l.price as l_price, l.currency as l_currency, l.status as l_status, l.seller_id as l_seller,
                (select count(*)::int from messages m
                  where m.conversation_id = c.id and ${unreadMessageSql('m', 'r', ':me')}) as unread,
                ${conversationMutedSql('c.id', ':me')} as muted
           from conversations c
           join users u on u.id = case when c.buyer_id = :me then c.seller_id else c.buyer_id end
           left join listings l on l.id = c.listing_id
           left join conversation_reads r on r.conversation_id = c.id and r.user_id = :me
          where c.id = any(:ids::uuid[])`,
        { me, ids },
      ),
      db.raw<{ rows: MessageRow[] }>(
        `select m.* from unnest(?::uuid[]) as c(id)
           cross join lateral (select * from messages m where m.conversation_id = c.id order by m.created_at desc, m.id desc limit 1) m`,
        [ids],
      ),
    ])
    const lastMessages = await hydrateMessages(db, last.rows, partiesOf(convs))
    const lastBy = new Map(lastMessages.map((m) => [m.conversationId, m]))
    const detailBy = new Map(details.rows.map((d) => [d.id, d]))
    return convs.map((c) => {
      const d = detailBy.get(c.id)!
      return {
        id: c.id,
        listing: d.l_id
          ? {
              id: d.l_id,
              title: d.l_title,
              price: d.l_price,
              currency: d.l_currency,
              status: d.l_status,
              sellerId: d.l_seller,
            }
          : null,
        wantId: c.want_id,
        buyerId: c.buyer_id,
        sellerId: c.seller_id,
        otherUser: { id: d.other_id, name: d.other_name, avatarUrl: d.other_avatar },
        lastMessage: lastBy.get(c.id) ?? null,
        unreadCount: d.unread,
        muted: d.muted,
        lastActivityAt: c.last_activity_at.toISOString(),
        createdAt: c.created_at.toISOString(),
      }
    })
  }

  /** The author of a want (the buyer side of a conversation about it) and whether it is open. */
  async function wantOf(db: Db, wantId: string, viewer: Actor): Promise<{ author: string; open: boolean }> {
    const want = await findWant(db, wantId)
    if (!want || !isWantVisibleTo(want, viewer)) throw WantErrors.wantNotFound()
    return { author: want.user_id, open: want.status === 'open' }
  }

  /** What a participant sends: text, or a photo whose files are stored (with an optional caption). */
  type Content = { kind: 'text'; body: string } | { kind: 'image'; body: string; image: MessageImageRow }

  /** A stored send, and what must happen after commit: a notification if the recipient is offline. */
  type Sent = { created: boolean; message: Message; offline?: { recipient: string; online: Promise<boolean> } }

  /**
   * Sends in a transaction the caller holds: locks the conversation, answers a replay with
   * the original, refuses when blocked, stores, and appends `message:new` for both sides.
   * Whether the recipient is online is asked meanwhile, but never waited for inside the
   * transaction (that would hold a row lock and a pooled connection on another node's
   * answer): the caller runs `notifyIfOffline` after commit.
   */
  async function sendLocked(
    tx: TxCtx,
    conversationId: string,
    senderId: string,
    content: Content,
    clientId: string | undefined,
    whenStored?: (tx: TxCtx) => Promise<void>,
  ): Promise<Sent> {
    const { conversation, blocked } = await lockForSend(tx, conversationId, senderId)
    if (blocked) throw AccountErrors.blocked()
    const recipient = otherParty(conversation, senderId)
    const recipientOnline = isOnline(recipient)
    const row = await insertMessage(tx, conversation, {
      senderId,
      kind: content.kind,
      body: content.body,
      image: content.kind === 'image' ? content.image : null,
      clientId,
    })
    if (!row) {
      // A resend: its own statement (and snapshot) sees the original, committed before our lock.
      const existing = (await tx
        .db('messages')
        .where({ conversation_id: conversationId, sender_id: senderId, client_id: clientId })
        .first('*'))!
      if (!isReplayOf(existing, content)) throw ChatErrors.clientIdReused()
      const [message] = await hydrateMessages(tx.db, [existing], partiesOf([conversation]))
      return { created: false, message: message! }
    }
    await whenStored?.(tx)
    // A new text or photo message: no offer to embed, and nobody has read it yet.
    const message = toMessage(row, undefined, null)
    await spine.append(tx, [
      { userId: conversation.buyer_id, event: 'message:new', data: message },
      { userId: conversation.seller_id, event: 'message:new', data: message },
    ])
    return { created: true, message, offline: { recipient, online: recipientOnline } }
  }

  /** A text send waiting for its group commit: who sends what where, and the connection it came on. */
  type TextSend = { ctx: ActorCtx; conversationId: string; body: string; clientId: string | undefined }

  /**
   * Stores the text sends of one batch in one transaction, set-based: one statement locks
   * every conversation of the batch (in id order, so two batches never wait on each other in
   * a cycle) with the participant and block checks, one inserts every message (times strictly
   * increasing per conversation, as `insertMessage` makes them, in submission order), one
   * appends both sides' `message:new` (the spine's hooks run once for the batch). A send that
   * a rule refuses gets its own error and the rest are stored; a replayed clientId gets the
   * original. The same rules as `sendLocked`, for many messages at once.
   */
  async function storeTexts(sends: TextSend[]): Promise<ItemOutcome<Sent>[]> {
    const first = sends[0]!.ctx
    const ctx = { db: first.db, log: first.log, requestId: first.requestId }
    return spine.transaction(ctx, async (tx) => {
      const ids = [...new Set(sends.map((s) => s.conversationId))]
      const sessionIds = [...new Set(sends.map((s) => s.ctx.actor.sessionId))]
      // One statement: the locks, and the senders' sessions (the socket skips its own check).
      // The batch's statements are named prepared statements: parsed and planned once per connection.
      const { rows: lockedRows } = await preparedRaw<{
        rows: (ConversationRow & { blocked: boolean; ended_sessions: Record<string, string> })[]
      }>(
        tx.db,
        `select c.*, ${blockedEitherWaySql('c.buyer_id', 'c.seller_id')} as blocked,
                (select coalesce(jsonb_object_agg(e.id, e.reason), '{}'::jsonb) from (${SESSION_ENDS_SQL}) e) as ended_sessions
           from conversations c
          where c.id = any(?::uuid[])
          order by c.id
            for update of c`,
        [sessionIds, ids],
      )
      const endedBy =
        lockedRows.length > 0 ? lockedRows[0]!.ended_sessions : Object.fromEntries(await sessionEnds(tx.db, sessionIds))
      const ended = new Map(Object.entries(endedBy))
      const locked = lockedRows.map(({ ended_sessions: _, ...c }) => c)
      const byId = new Map(locked.map((c) => [c.id, c]))
      const outcomes: (ItemOutcome<Sent> | undefined)[] = sends.map((s) => {
        const reason = ended.get(s.ctx.actor.sessionId)
        if (reason) return { ok: false, error: sessionEndedError(reason) }
        const c = byId.get(s.conversationId)
        if (!c || (c.buyer_id !== s.ctx.actor.id && c.seller_id !== s.ctx.actor.id))
          return { ok: false, error: ChatErrors.conversationNotFound() }
        if (c.blocked) return { ok: false, error: AccountErrors.blocked() }
        return undefined
      })
      const storable = sends.flatMap((s, ord) => (outcomes[ord] ? [] : [{ ord, s }]))
      if (storable.length === 0) return outcomes as ItemOutcome<Sent>[]
      // Asked meanwhile, never awaited inside the transaction (see sendLocked).
      const online = new Map<number, Promise<boolean>>()
      for (const { ord, s } of storable)
        online.set(ord, isOnline(otherParty(byId.get(s.conversationId)!, s.ctx.actor.id)))
      const { rows: inserted } = await preparedRaw<{ rows: (MessageRow & { ord: number })[] }>(
        tx.db,
        `with input as (
           select * from jsonb_to_recordset(?::jsonb) as x(ord int, conversation_id uuid, sender_id uuid, body text, client_id text)
         ), clock as (
           select date_trunc('milliseconds', clock_timestamp()) as now
         ), stamped as (
           select i.*, greatest(clock.now, coalesce(c.last_message_at + interval '1 millisecond', '-infinity'::timestamptz))
                       + (row_number() over (partition by i.conversation_id order by i.ord) - 1) * interval '1 millisecond' as t
             from input i join conversations c on c.id = i.conversation_id cross join clock
         ), inserted as (
           insert into messages (conversation_id, sender_id, kind, body, client_id, created_at)
           select conversation_id, sender_id, 'text', body, client_id, t from stamped order by ord
           on conflict (conversation_id, sender_id, client_id) where client_id is not null do nothing
           returning *
         ), bumped as (
           update conversations c set last_message_at = m.t, last_activity_at = greatest(c.last_activity_at, m.t)
             from (select conversation_id, max(created_at) as t from inserted group by conversation_id) m
            where c.id = m.conversation_id
         )
         select s.ord, i.* from inserted i join stamped s on s.conversation_id = i.conversation_id and s.t = i.created_at`,
        [
          JSON.stringify(
            storable.map(({ ord, s }) => ({
              ord,
              conversation_id: s.conversationId,
              sender_id: s.ctx.actor.id,
              body: s.body,
              client_id: s.clientId ?? null,
            })),
          ),
        ],
      )
      const insertedByOrd = new Map(inserted.map(({ ord, ...row }) => [ord, row as MessageRow]))
      // Replays: a clientId this sender already used in that conversation (committed before our lock).
      const replays = storable.filter(({ ord }) => !insertedByOrd.has(ord))
      if (replays.length > 0) {
        const { rows: existing } = await tx.db.raw<{ rows: MessageRow[] }>(
          `select m.* from messages m
             join jsonb_to_recordset(?::jsonb) as x(conversation_id uuid, sender_id uuid, client_id text)
               on m.conversation_id = x.conversation_id and m.sender_id = x.sender_id and m.client_id = x.client_id`,
          [
            JSON.stringify(
              replays.map(({ s }) => ({
                conversation_id: s.conversationId,
                sender_id: s.ctx.actor.id,
                client_id: s.clientId,
              })),
            ),
          ],
        )
        const hydrated = await hydrateMessages(tx.db, existing, partiesOf(locked))
        const key = (conversationId: string, senderId: string | null, clientId: string | null | undefined) =>
          `${conversationId}|${senderId}|${clientId}`
        const byKey = new Map(
          existing.map((row, i) => [
            key(row.conversation_id, row.sender_id, row.client_id),
            { row, message: hydrated[i]! },
          ]),
        )
        for (const { ord, s } of replays) {
          const found = byKey.get(key(s.conversationId, s.ctx.actor.id, s.clientId))
          outcomes[ord] =
            found && isReplayOf(found.row, { kind: 'text', body: s.body })
              ? { ok: true, value: { created: false, message: found.message } }
              : { ok: false, error: ChatErrors.clientIdReused() }
        }
      }
      const events: { userId: string; event: string; data: Message }[] = []
      for (const { ord, s } of storable) {
        const row = insertedByOrd.get(ord)
        if (!row) continue
        const conversation = byId.get(s.conversationId)!
        const message = toMessage(row, undefined, null)
        events.push(
          { userId: conversation.buyer_id, event: 'message:new', data: message },
          { userId: conversation.seller_id, event: 'message:new', data: message },
        )
        outcomes[ord] = {
          ok: true,
          value: {
            created: true,
            message,
            offline: { recipient: otherParty(conversation, s.ctx.actor.id), online: online.get(ord)! },
          },
        }
      }
      await spine.append(tx, events)
      return outcomes as ItemOutcome<Sent>[]
    })
  }

  const textSends = new GroupCommit<TextSend, Sent>(storeTexts, {
    maxBatch: 100,
    maxInFlight: 1,
    maxWaiting: 150,
    maxWaitMs: 200,
    ...deps.sendBatch,
    refuse: () => HttpErrors.overloaded(),
  })

  /**
   * After the message committed: a `message` notification (and its event) when the
   * recipient had no live connection. Its own transaction; a crash in between costs that
   * notification, never the message.
   */
  async function notifyIfOffline(ctx: Ctx, sent: Sent): Promise<void> {
    if (!sent.offline || (await sent.offline.online)) return
    const { recipient } = sent.offline
    await spine.transaction(ctx, (tx) =>
      spine.notify(tx, [recipient], 'message', {
        conversationId: sent.message.conversationId,
        messageId: sent.message.id,
      }),
    )
  }

  /** Whether a stored message is what a resend with its clientId sends again (a photo: same kind and caption). */
  const isReplayOf = (existing: MessageRow, content: Content) =>
    existing.kind === content.kind && existing.body === content.body

  const isOnline = (userId: string) => deps.presence.isOnline(userId).catch(() => false)

  return {
    /**
     * Opens the conversation between a buyer and a seller about a listing (or a want), or
     * returns the existing one. About a listing, the buyer side starts it; about a want, a
     * seller answering it, with its author. A listing's owner, or a want's author, can only
     * return a conversation the other side started (no cold messages either way).
     */
    async open(ctx: ActorCtx, body: OpenConversationBody): Promise<{ created: boolean; conversation: Conversation }> {
      const me = ctx.actor.id
      let buyerId: string
      let sellerId: string
      let listing: Pick<ListingRow, 'id' | 'seller_id' | 'status' | 'seller_banned'> | undefined
      let wantOpen = true
      if (body.listingId) {
        listing = await findListing(ctx.db, body.listingId)
        if (!listing || !isListingVisibleTo(listing, me)) throw ListingErrors.listingNotFound()
        if (listing.seller_id === me) {
          if (!body.recipientId) throw ChatErrors.recipientRequired()
          buyerId = body.recipientId
          sellerId = me
        } else {
          if (body.recipientId && body.recipientId !== listing.seller_id) throw ChatErrors.recipientMismatch()
          buyerId = me
          sellerId = listing.seller_id
        }
      } else {
        const { author, open } = await wantOf(ctx.db, body.wantId!, ctx.actor)
        wantOpen = open
        if (author === me) {
          // The author only returns a conversation a seller opened about the want (below).
          if (!body.recipientId) throw ChatErrors.recipientRequired()
          buyerId = me
          sellerId = body.recipientId
        } else {
          if (body.recipientId && body.recipientId !== author) throw ChatErrors.recipientMismatch()
          buyerId = author
          sellerId = me
        }
      }
      if (buyerId === sellerId) throw ChatErrors.cannotMessageSelf()
      const other = buyerId === me ? sellerId : buyerId
      const otherUser = await findUser(ctx.db, other)
      if (!otherUser || otherUser.banned_at) throw ChatErrors.recipientNotFound()
      if (await isBlockedEitherWay(ctx.db, me, other)) throw AccountErrors.blocked()
      const pair = listing
        ? { listing_id: listing.id, buyer_id: buyerId, seller_id: sellerId }
        : { want_id: body.wantId!, buyer_id: buyerId, seller_id: sellerId }
      const find = (db: Db) => {
        const q = db('conversations').where(pair)
        if (!listing) q.whereNull('listing_id')
        return q.first('*')
      }
      // A listing's owner, or a want's author, only returns a conversation the other side
      // opened: about a want, that is a seller answering it, to its author (no cold messages).
      const returnOnly = listing ? listing.seller_id === me : buyerId === me
      const refuseNew = () => (listing ? ChatErrors.conversationNotFound() : WantErrors.ownWant())
      if (returnOnly && !(await find(ctx.db))) throw refuseNew()
      if (body.message) await deps.sendLimiter.consume(me)

      const { created, conversation, sent } = await spine.transaction(ctx, async (tx) => {
        let row = await find(tx.db)
        let created = false
        if (!row) {
          if (returnOnly) throw refuseNew()
          if (listing && !isListingOnSale(listing)) throw ListingErrors.listingNotAvailable()
          if (!listing && !wantOpen) throw WantErrors.wantClosed()
          const conflict = listing
            ? '(listing_id, buyer_id, seller_id) where listing_id is not null'
            : '(want_id, buyer_id, seller_id) where want_id is not null and listing_id is null'
          const { rows } = await tx.db.raw<{ rows: ConversationRow[] }>(
            `insert into conversations (listing_id, want_id, buyer_id, seller_id, last_activity_at, created_at)
             values (:listingId, :wantId, :buyerId, :sellerId, date_trunc('milliseconds', clock_timestamp()), date_trunc('milliseconds', clock_timestamp()))
             on conflict ${conflict} do nothing returning *`,
            { listingId: listing?.id ?? null, wantId: listing ? null : body.wantId!, buyerId, sellerId },
          )
          created = rows.length === 1
          // Lost a race with the same open: the other transaction's row is there now.
          row = rows[0] ?? (await find(tx.db))
        }
        const sent = body.message
          ? await sendLocked(tx, row!.id, me, { kind: 'text', body: body.message }, undefined)
          : undefined
        return { created, conversation: row!, sent }
      })
      if (sent) await notifyIfOffline(ctx, sent)
      const [view] = await views(ctx.db, me, [await participantConversation(ctx.db, conversation.id, me)])
      return { created, conversation: view! }
    },

    async get(ctx: ActorCtx, conversationId: string): Promise<Conversation> {
      const row = await participantConversation(ctx.db, conversationId, ctx.actor.id)
      const [view] = await views(ctx.db, ctx.actor.id, [row])
      return view!
    },

    /** My conversations, newest activity first, keyset-paged on (last_activity_at, id). */
    async list(
      ctx: ActorCtx,
      q: { limit?: number; cursor?: string },
    ): Promise<{ items: Conversation[]; nextCursor: string | null }> {
      const me = ctx.actor.id
      const limit = q.limit ?? 20
      const after = decodeCursor(q.cursor, 2, 'conversations') as [string, string] | undefined
      if (
        after &&
        (typeof after[0] !== 'string' ||
          Number.isNaN(Date.parse(after[0])) ||
          typeof after[1] !== 'string' ||
          !/^[0-9a-f-]{36}$/i.test(after[1]))
      )
        throw Errors.validation('The cursor is not valid for this list', [
          { path: '/cursor', message: 'invalid cursor' },
        ])
      // The sort key keeps PostgreSQL's microseconds (a JS Date would cut them): rows written
      // by other features with now() must page exactly too.
      const side = (column: 'buyer_id' | 'seller_id') => {
        const query = ctx.db('conversations').where(column, me)
        if (after) query.andWhereRaw('(last_activity_at, id) < (?::timestamptz, ?::uuid)', after)
        return query
          .orderBy([
            { column: 'last_activity_at', order: 'desc' },
            { column: 'id', order: 'desc' },
          ])
          .limit(limit + 1)
          .select<Keyed[]>(
            '*',
            ctx.db.raw(`to_char(last_activity_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as activity_key`),
          )
      }
      type Keyed = ConversationRow & { activity_key: string }
      const [asBuyer, asSeller] = await Promise.all([side('buyer_id'), side('seller_id')])
      const desc = (x: string, y: string) => (x < y ? 1 : x > y ? -1 : 0)
      const merged = [...asBuyer, ...asSeller].sort((a, b) => desc(a.activity_key, b.activity_key) || desc(a.id, b.id))
      const page = merged.slice(0, limit)
      const last = page[page.length - 1]
      return {
        items: await views(ctx.db, me, page),
        nextCursor: merged.length > limit && last ? encodeCursor([last.activity_key, last.id], 'conversations') : null,
      }
    },

    /** History, newest first; `before` is a message id of this conversation. */
    async messages(
      ctx: ActorCtx,
      conversationId: string,
      q: { before?: string; limit?: number },
    ): Promise<{ items: Message[]; nextCursor: string | null }> {
      const conversation = await participantConversation(ctx.db, conversationId, ctx.actor.id)
      const limit = q.limit ?? 30
      const query = ctx.db('messages').where('conversation_id', conversationId)
      if (q.before) {
        const pivot = await ctx.db('messages').where({ id: q.before, conversation_id: conversationId }).first('id')
        if (!pivot) throw ChatErrors.messageNotFound()
        // Compared in SQL: timestamps keep microseconds there, not in a JS Date.
        query.andWhereRaw('(created_at, id) < (select created_at, id from messages where id = ?)', [q.before])
      }
      const rows = await query
        .orderBy([
          { column: 'created_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .limit(limit + 1)
        .select('*')
      const page = rows.slice(0, limit)
      return {
        items: await hydrateMessages(ctx.db, page, partiesOf([conversation])),
        nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
      }
    },

    /**
     * Sends a text message. A resend with the same clientId returns the original (created:
     * false) and stores nothing; with a different body it is refused. When the recipient
     * has no live connection anywhere, a `message` notification is created.
     */
    async send(
      ctx: ActorCtx,
      conversationId: string,
      input: { body: string; clientId?: string },
    ): Promise<{ created: boolean; message: Message }> {
      await deps.sendLimiter.consume(ctx.actor.id)
      const sent = await textSends.submit({ ctx, conversationId, body: input.body, clientId: input.clientId })
      await notifyIfOffline(ctx, sent)
      return { created: sent.created, message: sent.message }
    },

    /**
     * The checks of a send that cost nothing, made before a photo is read and stored: the
     * sender's allowance (429), a participant (404), nobody blocked (403).
     */
    async checkSend(ctx: ActorCtx, conversationId: string): Promise<void> {
      await deps.sendLimiter.consume(ctx.actor.id)
      const conversation = await participantConversation(ctx.db, conversationId, ctx.actor.id)
      if (await isBlockedEitherWay(ctx.db, conversation.buyer_id, conversation.seller_id)) throw AccountErrors.blocked()
    },

    /** The message this sender already sent here with `clientId` (a resend is answered with it), or null. */
    async findSent(ctx: ActorCtx, conversationId: string, clientId: string): Promise<Message | null> {
      const conversation = await participantConversation(ctx.db, conversationId, ctx.actor.id)
      const existing = await ctx
        .db('messages')
        .where({ conversation_id: conversationId, sender_id: ctx.actor.id, client_id: clientId })
        .first('*')
      if (!existing) return null
      const [message] = await hydrateMessages(ctx.db, [existing], partiesOf([conversation]))
      return message!
    },

    /**
     * Sends a photo message whose files are stored, with the rules of a text send (lock,
     * blocks, clientId replay, `message:new` to both participants, the offline notification).
     * `whenStored` runs in the storing transaction, only when the message is new (the caller
     * takes ownership of its files there). The allowance was taken by `checkSend`.
     */
    async sendImage(
      ctx: ActorCtx,
      conversationId: string,
      input: { caption: string; image: MessageImageRow; clientId?: string },
      whenStored: (tx: TxCtx) => Promise<void>,
    ): Promise<{ created: boolean; message: Message }> {
      const content: Content = { kind: 'image', body: input.caption, image: input.image }
      const sent = await spine.transaction(ctx, (tx) =>
        sendLocked(tx, conversationId, ctx.actor.id, content, input.clientId, whenStored),
      )
      await notifyIfOffline(ctx, sent)
      return { created: sent.created, message: sent.message }
    },

    /**
     * Moves my read pointer forward to a message (never back) and tells both participants'
     * devices with `message:read`. Returns the pointer as it now stands.
     */
    async markRead(
      ctx: ActorCtx,
      conversationId: string,
      upToMessageId: string,
    ): Promise<ReadReceipt & { unreadCount: number }> {
      const me = ctx.actor.id
      await deps.readLimiter.consume(me)
      const conversation = await participantConversation(ctx.db, conversationId, me)
      const message = await ctx
        .db('messages')
        .where({ id: upToMessageId, conversation_id: conversationId })
        .first('id', 'created_at')
      if (!message) throw ChatErrors.messageNotFound()
      const pointer = await spine.transaction(ctx, async (tx) => {
        const { rows } = await tx.db.raw<{ rows: Pick<ConversationReadRow, 'message_id' | 'read_at'>[] }>(
          `insert into conversation_reads as r (conversation_id, user_id, message_id, message_created_at, read_at)
           select ?::uuid, ?::uuid, m.id, m.created_at, now() from messages m where m.id = ?
           on conflict (conversation_id, user_id) do update
              set message_id = excluded.message_id, message_created_at = excluded.message_created_at, read_at = excluded.read_at
            where (r.message_created_at, r.message_id) < (excluded.message_created_at, excluded.message_id)
           returning message_id, read_at`,
          [conversationId, me, message.id],
        )
        if (rows[0]) {
          const receipt: ReadReceipt = {
            conversationId,
            userId: me,
            upToMessageId: rows[0].message_id,
            readAt: rows[0].read_at.toISOString(),
          }
          await spine.append(tx, [
            { userId: otherParty(conversation, me), event: 'message:read', data: receipt },
            { userId: me, event: 'message:read', data: receipt },
          ])
          return receipt
        }
        const current = (await tx
          .db('conversation_reads')
          .where({ conversation_id: conversationId, user_id: me })
          .first('message_id', 'read_at'))!
        return { conversationId, userId: me, upToMessageId: current.message_id, readAt: current.read_at.toISOString() }
      })
      const [view] = await views(ctx.db, me, [conversation])
      return { ...pointer, unreadCount: view!.unreadCount }
    },

    /** Mutes (or unmutes) a conversation for the caller: no push for it (a participant only, else 404). */
    async setMuted(ctx: ActorCtx, conversationId: string, muted: boolean): Promise<void> {
      const me = ctx.actor.id
      await participantConversation(ctx.db, conversationId, me)
      if (muted)
        await ctx
          .db('conversation_mutes')
          .insert({ user_id: me, conversation_id: conversationId })
          .onConflict(['user_id', 'conversation_id'])
          .ignore()
      else await ctx.db('conversation_mutes').where({ user_id: me, conversation_id: conversationId }).delete()
    },

    /** Whom a typing indicator goes to: the other participant, unless either blocked the other. */
    async typingPeer(ctx: ActorCtx, conversationId: string): Promise<string> {
      const conversation = await participantConversation(ctx.db, conversationId, ctx.actor.id)
      const peer = otherParty(conversation, ctx.actor.id)
      if (await isBlockedEitherWay(ctx.db, ctx.actor.id, peer)) throw AccountErrors.blocked()
      return peer
    },
  }
}

export type ChatService = ReturnType<typeof createChatService>
