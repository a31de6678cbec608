import type { Db } from '../db/index.js'
import { digestOffOf, isDigestOff, setDigestOff } from '../digest/index.js'
import { NOTIFICATION_TYPES, type NotificationType } from '../notifications/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import type { NotificationPreferencesRow } from './push.tables.js'

/**
 * Every notification type the platform sends (the notifications feature's catalogue, one
 * list), each on by default in both the push and the email maps. The admin ones reach admins only.
 */
export { NOTIFICATION_TYPES }
export type { NotificationType }

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
  row: Pick<NotificationPreferencesRow, 'push' | 'email' | 'quiet_hours'> | undefined,
  digestOff: boolean,
) {
  return {
    push: { ...allOn(), ...row?.push },
    email: { ...allOn(), ...row?.email },
    quietHours: row?.quiet_hours ?? null,
    // The digest owns its on/off flag (its unsubscribe link sets it too): one storage.
    unreadDigest: !digestOff,
  }
}

/** Preferences of some users, defaults for those who never changed any (the push worker, the unread digest). */
export async function preferencesOf(db: Db, userIds: string[]): Promise<Map<string, NotificationPreferences>> {
  const rows = userIds.length
    ? await db('notification_preferences').whereIn('user_id', userIds).select('user_id', 'push', 'email', 'quiet_hours')
    : []
  const off = await digestOffOf(db, userIds)
  const byUser = new Map(rows.map((r) => [r.user_id, r]))
  return new Map(userIds.map((id) => [id, toPreferences(byUser.get(id), off.has(id))]))
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
    if (patch.unreadDigest !== undefined) await setDigestOff(ctx.db, ctx.actor.id, !patch.unreadDigest)
    const { rows } = await ctx.db.raw<{ rows: NotificationPreferencesRow[] }>(
      `insert into notification_preferences as p (user_id, push, email, quiet_hours)
       values (:userId, :push::jsonb, :email::jsonb, :quiet::jsonb)
       on conflict (user_id) do update set
         push = p.push || excluded.push,
         email = p.email || excluded.email,
         quiet_hours = case when :quietGiven then excluded.quiet_hours else p.quiet_hours end,
         updated_at = now()
       returning *`,
      {
        userId: ctx.actor.id,
        push: defined(patch.push),
        email: defined(patch.email),
        quiet: quiet ? JSON.stringify({ start: quiet.start, end: quiet.end, timeZone: quiet.timeZone }) : null,
        quietGiven: quiet !== undefined,
      },
    )
    return toPreferences(rows[0], await isDigestOff(ctx.db, ctx.actor.id))
  },
}
