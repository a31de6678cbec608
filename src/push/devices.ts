import type { Db } from '../db/index.js'
import type { Actor, Ctx, ProblemFieldError } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { PushErrors } from './push.errors.js'
import type { PushDevice, PushPlatform } from './providers.js'
import type { PushDeviceRow } from './push.tables.js'

type ActorCtx = Ctx & { actor: Actor }

export type RegisterDeviceInput = {
  platform: PushPlatform
  token?: string
  subscription?: { endpoint: string; keys: { p256dh: string; auth: string }; expirationTime?: number | null }
  locale?: string
}

/** A user's devices beyond this many: the least recently registered go. */
export const MAX_DEVICES_PER_USER = 20

/** Expo's token forms (expo-server-sdk's `isExpoPushToken`): `ExponentPushToken[...]` or `ExpoPushToken[...]`. */
const EXPO_TOKEN = /^Expo(nent)?PushToken\[[^\]\s]+\]$/
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

const base64urlBytes = (value: string) => Buffer.from(value.replace(/=+$/, ''), 'base64url').length

/** Checks what the schema cannot: the fields each platform needs and what they must look like. */
function problemsOf(input: RegisterDeviceInput): ProblemFieldError[] {
  const problems: ProblemFieldError[] = []
  if (input.platform === 'webpush') {
    if (input.token !== undefined)
      problems.push({ path: '/body/token', message: 'web push takes a subscription, not a token' })
    const sub = input.subscription
    if (!sub) return [...problems, { path: '/body/subscription', message: 'is required for web push' }]
    let url: URL | undefined
    try {
      url = new URL(sub.endpoint)
    } catch {
      url = undefined
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
      problems.push({ path: '/body/subscription/endpoint', message: 'must be an http(s) URL' })
    // web-push's own checks: the P-256 public key is 65 bytes, the auth secret 16.
    if (!BASE64URL.test(sub.keys.p256dh) || base64urlBytes(sub.keys.p256dh) !== 65)
      problems.push({
        path: '/body/subscription/keys/p256dh',
        message: 'must be a base64url P-256 public key (65 bytes)',
      })
    if (!BASE64URL.test(sub.keys.auth) || base64urlBytes(sub.keys.auth) < 16)
      problems.push({ path: '/body/subscription/keys/auth', message: 'must be a base64url secret of 16 bytes' })
  } else {
    if (input.subscription !== undefined)
      problems.push({ path: '/body/subscription', message: `${input.platform} takes a token, not a subscription` })
    if (input.token === undefined) problems.push({ path: '/body/token', message: `is required for ${input.platform}` })
    else if (input.platform === 'expo' && !EXPO_TOKEN.test(input.token))
      problems.push({ path: '/body/token', message: 'must be an Expo push token (ExponentPushToken[...])' })
  }
  if (input.locale !== undefined) {
    try {
      Intl.getCanonicalLocales(input.locale)
    } catch {
      problems.push({ path: '/body/locale', message: 'must be a BCP 47 language tag' })
    }
  }
  return problems
}

/** A device row as a provider sends to it. */
export function toPushDevice(
  row: Pick<PushDeviceRow, 'id' | 'platform' | 'token' | 'endpoint' | 'p256dh' | 'auth'>,
): PushDevice {
  return {
    id: row.id,
    platform: row.platform,
    token: row.token,
    subscription:
      row.endpoint && row.p256dh && row.auth
        ? { endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }
        : null,
  }
}

/** The devices of some users that belong to live sessions (what a push goes to). */
export async function liveDevicesOf(db: Db, userIds: string[]): Promise<Map<string, PushDeviceRow[]>> {
  const rows: PushDeviceRow[] = userIds.length
    ? await db('push_devices as d')
        .join('sessions as s', 's.id', 'd.session_id')
        .whereIn('d.user_id', userIds)
        .whereNull('s.revoked_at')
        .andWhere('s.expires_at', '>', db.fn.now())
        .orderBy([{ column: 'd.created_at' }, { column: 'd.id' }])
        .select('d.*')
    : []
  const byUser = new Map<string, PushDeviceRow[]>(userIds.map((id) => [id, []]))
  for (const row of rows) byUser.get(row.user_id)!.push(row)
  return byUser
}

const toDevice = (r: PushDeviceRow, sessionId: string) => ({
  id: r.id,
  platform: r.platform,
  createdAt: r.created_at.toISOString(),
  ...(r.last_push_at ? { lastPushAt: r.last_push_at.toISOString() } : {}),
  ...(r.locale ? { locale: r.locale } : {}),
  current: r.session_id === sessionId,
})

/** The devices signed-in sessions registered for push. */
export const devicesService = {
  /**
   * Registers this session's device. The same token (web push: endpoint) again is the same
   * device, moved to this session and user: pushes still waiting for it under another user
   * are dropped (a shared or resold phone never shows the previous user's messages).
   */
  async register(
    ctx: ActorCtx,
    input: RegisterDeviceInput,
  ): Promise<{ id: string; platform: PushPlatform; createdAt: string }> {
    const problems = problemsOf(input)
    if (problems.length > 0) throw Errors.validation('The device cannot be registered', problems)
    const sub = input.platform === 'webpush' ? input.subscription! : undefined
    return ctx.db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: Pick<PushDeviceRow, 'id' | 'platform' | 'created_at'>[] }>(
        `insert into push_devices as d (user_id, session_id, platform, token, endpoint, p256dh, auth, locale)
         values (:userId, :sessionId, :platform, :token, :endpoint, :p256dh, :auth, :locale)
         on conflict (platform, address) do update set
           user_id = excluded.user_id, session_id = excluded.session_id,
           p256dh = excluded.p256dh, auth = excluded.auth,
           locale = coalesce(excluded.locale, d.locale), updated_at = now()
         returning id, platform, created_at`,
        {
          userId: ctx.actor.id,
          sessionId: ctx.actor.sessionId,
          platform: input.platform,
          token: sub ? null : input.token!,
          endpoint: sub?.endpoint ?? null,
          p256dh: sub?.keys.p256dh ?? null,
          auth: sub?.keys.auth ?? null,
          locale: input.locale ? Intl.getCanonicalLocales(input.locale)[0]! : null,
        },
      )
      const device = rows[0]!
      await trx('push_outbox')
        .where('device_id', device.id)
        .andWhereNot('user_id', ctx.actor.id)
        .andWhere('status', 'pending')
        .delete()
      await trx.raw(
        `delete from push_devices where user_id = :userId and id not in (
           select id from push_devices where user_id = :userId order by updated_at desc, id desc limit :max)`,
        { userId: ctx.actor.id, max: MAX_DEVICES_PER_USER },
      )
      return { id: device.id, platform: device.platform, createdAt: device.created_at.toISOString() }
    })
  },

  async list(ctx: ActorCtx) {
    const rows = await ctx
      .db('push_devices')
      .where('user_id', ctx.actor.id)
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .select('*')
    return { items: rows.map((r) => toDevice(r, ctx.actor.sessionId)) }
  },

  /** Removes one of the caller's devices; another user's is not found (404). */
  async remove(ctx: ActorCtx, deviceId: string): Promise<void> {
    const removed = await ctx.db('push_devices').where({ id: deviceId, user_id: ctx.actor.id }).delete()
    if (removed === 0) throw PushErrors.deviceNotFound()
  },
}
