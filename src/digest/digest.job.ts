import type { FastifyBaseLogger } from 'fastify'
import { conversationMutedSql, type Presence } from '../chat/index.js'
import type { Knex } from '../db/index.js'
import type { Job } from '../jobs/index.js'
import { enqueueMail } from '../mail/index.js'
import { digestMail, type DigestConversation } from './digest.mail.js'

export type DigestJobDeps = {
  presence: Presence
  /** UNREAD_DIGEST_MINUTES. */
  minutes: number
  appLinkBase: string
  unsubscribeUrl: (userId: string) => string
  /** After commit, when mail was queued (the sender delivers it now rather than at its next poll). */
  mailQueued: () => void
  log: FastifyBaseLogger
}

/** Messages looked at per pass (a pass runs every SWEEPER_INTERVAL_MS). */
const BATCH = 2000
/** Presence questions in flight at once (each may wait up to half a second for the other nodes). */
const PRESENCE_AT_ONCE = 25
const ZERO_UUID = '00000000-0000-0000-0000-000000000000'

/** One conversation of a candidate, with its user's burst figures (every row of a user repeats them). */
type Row = {
  user_id: string
  email: string
  name: string
  conversation_id: string
  other_name: string
  about: string | null
  unread: number
  fresh: number
  /** The first unread message after the user's last digest: the burst's start (text keeps microseconds). */
  burst_start: string
  /** The newest unread message: what this digest covers. */
  covered_until: string
  due: boolean
}

/**
 * The messages whose digest deadline passed since the last pass, in (time, id) order from
 * the cursor, and the users with one of them still unread and not covered by an earlier
 * digest. The cursor moves past them: each message is looked at once. On the first pass
 * the scan starts an hour back; after a long stop it resumes at most a day back.
 */
async function candidates(trx: Knex.Transaction, minutes: number): Promise<string[]> {
  const { rows } = await trx.raw<{ rows: { at: string; id: string; cutoff: string }[] }>(
    `with bounds as (select now() - (:minutes * interval '1 minute') as cutoff)
     select to_json(case when c.scanned_at is null then b.cutoff - interval '1 hour'
                         when c.scanned_at < b.cutoff - interval '1 day' then b.cutoff - interval '1 day'
                         else c.scanned_at end) #>> '{}' as at,
            case when c.scanned_at >= b.cutoff - interval '1 day' then c.scanned_id else :zero::uuid end as id,
            to_json(b.cutoff) #>> '{}' as cutoff
       from bounds b left join digest_cursor c on c.id`,
    { minutes, zero: ZERO_UUID },
  )
  const start = rows[0]!
  const found = await trx.raw<{ rows: { user_id: string }[] }>(
    `with scanned as (
       select m.id, m.created_at, m.conversation_id, m.sender_id
         from messages m
        where (m.created_at, m.id) > (:at::timestamptz, :id::uuid) and m.created_at <= :cutoff::timestamptz
        order by m.created_at, m.id
        limit :batch
     ), moved as (
       insert into digest_cursor (id, scanned_at, scanned_id)
       select true, created_at, id from scanned order by created_at desc, id desc limit 1
       on conflict (id) do update set scanned_at = excluded.scanned_at, scanned_id = excluded.scanned_id
     )
     select distinct p.user_id
       from scanned m
       join conversations c on c.id = m.conversation_id
       cross join lateral (values (c.buyer_id), (c.seller_id)) as p(user_id)
       join users u on u.id = p.user_id and u.banned_at is null
       left join conversation_reads r on r.conversation_id = c.id and r.user_id = p.user_id
       left join digest_settings s on s.user_id = p.user_id
      where m.sender_id is distinct from p.user_id
        and (r.message_id is null or (m.created_at, m.id) > (r.message_created_at, r.message_id))
        and (s.covered_until is null or m.created_at > s.covered_until)
        and not coalesce(s.off, false)
        and not ${conversationMutedSql('c.id', 'p.user_id')}`,
    { ...start, batch: BATCH },
  )
  return found.rows.map((r) => r.user_id)
}

/**
 * Each candidate's conversations with unread messages that arrived after their last digest
 * (at most a day before the deadline), newest first, with the counts the app shows: the
 * burst starts at the first of those messages, and is due once the window has passed since.
 */
async function bursts(trx: Knex.Transaction, users: string[], minutes: number): Promise<Row[]> {
  const { rows } = await trx.raw<{ rows: Row[] }>(
    `with me as (
       select p.user_id, u.email, u.name,
              greatest(coalesce(s.covered_until, '-infinity'), now() - (:minutes * interval '1 minute') - interval '1 day') as floor
         from unnest(:users::uuid[]) as p(user_id)
         join users u on u.id = p.user_id
         left join digest_settings s on s.user_id = p.user_id
     ), convs as (
       select me.*, c.id, c.buyer_id, c.seller_id, c.listing_id, c.want_id
         from me join conversations c on c.buyer_id = me.user_id and c.last_message_at > me.floor
       union all
       select me.*, c.id, c.buyer_id, c.seller_id, c.listing_id, c.want_id
         from me join conversations c on c.seller_id = me.user_id and c.last_message_at > me.floor
     ), per_conversation as (
       select c.user_id, c.email, c.name, c.id as conversation_id, o.name as other_name,
              coalesce(l.title, w.title) as about,
              count(*)::int as unread,
              count(*) filter (where m.created_at > c.floor)::int as fresh,
              min(m.created_at) filter (where m.created_at > c.floor) as first_at,
              max(m.created_at) as last_at
         from convs c
         join users o on o.id = case when c.buyer_id = c.user_id then c.seller_id else c.buyer_id end
         left join listings l on l.id = c.listing_id
         left join wants w on w.id = c.want_id
         join messages m on m.conversation_id = c.id and m.sender_id is distinct from c.user_id
         left join conversation_reads r on r.conversation_id = c.id and r.user_id = c.user_id
        where (r.message_id is null or (m.created_at, m.id) > (r.message_created_at, r.message_id))
          and not ${conversationMutedSql('c.id', 'c.user_id')}
        group by c.user_id, c.email, c.name, c.id, c.floor, o.name, l.title, w.title
       having count(*) filter (where m.created_at > c.floor) > 0
     ), per_user as (
       select *, min(first_at) over (partition by user_id) as burst, max(last_at) over (partition by user_id) as covered
         from per_conversation
     )
     select user_id, email, name, conversation_id, other_name, about, unread, fresh,
            to_json(burst) #>> '{}' as burst_start, to_json(covered) #>> '{}' as covered_until,
            burst <= now() - (:minutes * interval '1 minute') as due
       from per_user
      order by user_id, last_at desc, conversation_id`,
    { users, minutes },
  )
  return rows
}

/** Whether each user is online, asking at most PRESENCE_AT_ONCE at a time. */
async function onlineOf(presence: Presence, users: string[]): Promise<Set<string>> {
  const online = new Set<string>()
  for (let i = 0; i < users.length; i += PRESENCE_AT_ONCE) {
    const chunk = users.slice(i, i + PRESENCE_AT_ONCE)
    const answers = await Promise.all(chunk.map((u) => presence.isOnline(u).catch(() => false)))
    for (const [j, u] of chunk.entries()) if (answers[j]) online.add(u)
  }
  return online
}

/**
 * The unread-messages digest (a sweeper job: one node at a time, in the job's transaction).
 * A burst is a user's chat messages still unread after their last digest; once
 * UNREAD_DIGEST_MINUTES have passed since the first of them, a user away from every node
 * gets one mail listing the conversations (with the messages that arrived meanwhile), and a
 * user online gets none (they are in the app). Either way the burst is closed: a `digest_runs`
 * row, and the user's `covered_until` moved to its newest message, so later messages start
 * the next burst. Read messages never count, nor do users who turned the digest off.
 * Returns the number of bursts closed.
 */
export function unreadDigestJob(deps: DigestJobDeps): Job {
  return {
    name: 'unread-digest',
    run: async (trx) => {
      await trx('digest_runs').where('created_at', '<', trx.raw("now() - interval '30 days'")).delete()
      const users = await candidates(trx, deps.minutes)
      if (users.length === 0) return 0
      const rows = (await bursts(trx, users, deps.minutes)).filter((r) => r.due)
      const byUser = new Map<string, Row[]>()
      for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r])
      const online = await onlineOf(deps.presence, [...byUser.keys()])

      let closed = 0
      let mailed = 0
      for (const [userId, convs] of byUser) {
        const first = convs[0]!
        const outcome = online.has(userId) ? 'online' : 'mailed'
        const run = await trx('digest_runs')
          .insert({
            user_id: userId,
            burst_start: trx.raw('?::timestamptz', [first.burst_start]),
            outcome,
            conversations: convs.length,
            messages: convs.reduce((n, c) => n + c.fresh, 0),
          })
          .onConflict(['user_id', 'burst_start'])
          .ignore()
          .returning('user_id')
        const covered = trx.raw('?::timestamptz', [first.covered_until])
        await trx('digest_settings')
          .insert({
            user_id: userId,
            covered_until: covered,
            ...(outcome === 'mailed' ? { last_digest_at: trx.fn.now() } : {}),
          })
          .onConflict('user_id')
          .merge({
            covered_until: trx.raw('greatest(digest_settings.covered_until, excluded.covered_until)'),
            ...(outcome === 'mailed' ? { last_digest_at: trx.fn.now() } : {}),
            updated_at: trx.fn.now(),
          })
        closed++
        // This burst was handled before (the cursor was moved back by hand): once is enough.
        if (run.length === 0 || outcome === 'online') continue
        const conversations: DigestConversation[] = convs.map((c) => ({
          conversationId: c.conversation_id,
          otherName: c.other_name,
          about: c.about,
          unread: c.unread,
        }))
        await enqueueMail(
          trx,
          digestMail({
            to: first.email,
            name: first.name,
            conversations,
            appLinkBase: deps.appLinkBase,
            unsubscribeUrl: deps.unsubscribeUrl(userId),
            minutes: deps.minutes,
          }),
        )
        mailed++
      }
      if (mailed > 0) {
        deps.log.info({ mailed, closed }, 'unread digests queued')
        trx.executionPromise.then(deps.mailQueued, () => {})
      }
      return closed
    },
  }
}
