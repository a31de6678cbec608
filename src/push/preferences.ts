import type { Db } from '../db/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import type { NotificationPreferencesRow } from './push.tables.js'

/**
 * Every notification type the platform sends (`spine.notify` calls, and `message` for chat),
 * each on by default in both the push and the email maps. The admin ones reach admins only.
 */
export const NOTIFICATION_TYPES = [
  'message',
  'price_drop',
  'want_match',
  'want_response',
  'offer',
  'order_status',
  'review',
  'listing_removed',
  'funds_released',
  'payout',
  'dispute',
  // Admins' work.
  'payment_unsettled',
  'refund_failed',
  'refund_adjusted',
  'payout_pending',
  'payout_otp',
  'ledger_mismatch',
  'review_flagged',
  'listing_reported',
] as const
export type NotificationType = (typeof NOTIFICATION_TYPES)[number]

export type QuietHours = { start: string; end: string; timeZone: string }

/** A user's preferences as the API shows them: every type listed. */
export type NotificationPreferences = {
  push: Record<string, boolean>
  email: Record<string, boolean>
  quietHours: QuietHours | null
  unreadDigest: boolean
}

export type PreferencesPatch = {
  push?: Record<string, boolean | undefined>
  email?: Record<string, boolean | undefined>
  quietHours?: QuietHours | null
  unreadDigest?: boolean
}

const allOn = (): Record<string, boolean> => Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, true]))

function toPreferences(
  row: Pick<NotificationPreferencesRow, 'push' | 'email' | 'quiet_hours' | 'unread_digest'> | undefined,
) {
  return {
    push: { ...allOn(), ...row?.push },
    email: { ...allOn(), ...row?.email },
    quietHours: row?.quiet_hours ?? null,
    unreadDigest: row?.unread_digest ?? true,
  }
}

/** Preferences of some users, defaults for those who never changed any (the push worker, the unread digest). */
export async function preferencesOf(db: Db, userIds: string[]): Promise<Map<string, NotificationPreferences>> {
  const rows = userIds.length
    ? await db('notification_preferences')
        .whereIn('user_id', userIds)
        .select('user_id', 'push', 'email', 'quiet_hours', 'unread_digest')
    : []
  const byUser = new Map(rows.map((r) => [r.user_id, r]))
  return new Map(userIds.map((id) => [id, toPreferences(byUser.get(id))]))
}

/** Whether a time zone name is one the runtime knows (IANA, e.g. `Africa/Lagos`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name })
    return true
  } catch {
    return false
  }
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/**
 * Whether `at` falls in the quiet hours, in their time zone: from `start` (included) to `end`
 * (excluded), across midnight when `end` comes before `start` (22:00 → 07:00).
 */
export function inQuietHours(quiet: QuietHours | null, at: Date = new Date()): boolean {
  if (!quiet) return false
  let local: number
  try {
    const parts = new Intl.DateTimeFormat('en-GB', {
      timeZone: quiet.timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).formatToParts(at)
    const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0)
    local = part('hour') * 60 + part('minute')
  } catch {
    return false
  }
  const start = minutesOf(quiet.start)
  const end = minutesOf(quiet.end)
  return start < end ? local >= start && local < end : local >= start || local < end
}

type ActorCtx = Ctx & { actor: Actor }

/** Notification preferences: per type and channel, quiet hours and the unread digest. */
export const preferencesService = {
  async get(ctx: ActorCtx): Promise<NotificationPreferences> {
    return (await preferencesOf(ctx.db, [ctx.actor.id])).get(ctx.actor.id)!
  },

  /** Merges a patch: types given are set, others kept; `quietHours: null` clears them. */
  async patch(ctx: ActorCtx, patch: PreferencesPatch): Promise<NotificationPreferences> {
    const quiet = patch.quietHours
    if (quiet) {
      const errors = []
      if (!isTimeZone(quiet.timeZone))
        errors.push({ path: '/body/quietHours/timeZone', message: 'is not a known IANA time zone' })
      if (quiet.start === quiet.end) errors.push({ path: '/body/quietHours/end', message: 'must differ from start' })
      if (errors.length > 0) throw Errors.validation('The quiet hours are not valid', errors)
    }
    const defined = (map: Record<string, boolean | undefined> | undefined) =>
      JSON.stringify(Object.fromEntries(Object.entries(map ?? {}).filter(([, v]) => typeof v === 'boolean')))
    const { rows } = await ctx.db.raw<{ rows: NotificationPreferencesRow[] }>(
      `insert into notification_preferences as p (user_id, push, email, quiet_hours, unread_digest)
       values (:userId, :push::jsonb, :email::jsonb, :quiet::jsonb, coalesce(:digest::boolean, true))
       on conflict (user_id) do update set
         push = p.push || excluded.push,
         email = p.email || excluded.email,
         quiet_hours = case when :quietGiven then excluded.quiet_hours else p.quiet_hours end,
         unread_digest = coalesce(:digest::boolean, p.unread_digest),
         updated_at = now()
       returning *`,
      {
        userId: ctx.actor.id,
        push: defined(patch.push),
        email: defined(patch.email),
        quiet: quiet ? JSON.stringify({ start: quiet.start, end: quiet.end, timeZone: quiet.timeZone }) : null,
        quietGiven: quiet !== undefined,
        digest: patch.unreadDigest ?? null,
      },
    )
    return toPreferences(rows[0])
  },
}
