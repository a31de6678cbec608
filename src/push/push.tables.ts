import type { Table } from '../db/index.js'
import type { PushPlatform } from './providers.js'

/** A device a signed-in session registered for push; it ends with its session. */
export type PushDeviceRow = {
  id: string
  user_id: string
  session_id: string
  platform: PushPlatform
  token: string | null
  endpoint: string | null
  p256dh: string | null
  auth: string | null
  /** `token` or `endpoint` (generated): unique per platform. */
  address: string
  locale: string | null
  created_at: Date
  updated_at: Date
  last_push_at: Date | null
}

export type PushOutboxStatus = 'pending' | 'expanded' | 'sent' | 'dropped' | 'failed'

/**
 * A push to deliver. A user row (no device) is written with the event that causes it; the
 * worker decides about it (online, muted, switched off...) and expands it into one row per
 * device, each retried on its own.
 */
export type PushOutboxRow = {
  id: string
  user_id: string
  device_id: string | null
  parent_id: string | null
  kind: string
  event_seq: number | null
  notification_id: string | null
  source: unknown
  payload: unknown
  dedupe_key: string | null
  status: PushOutboxStatus
  attempts: number
  next_attempt_at: Date
  claimed_until: Date | null
  claim_token: string | null
  sent_at: Date | null
  provider_id: string | null
  last_error: string | null
  created_at: Date
}

/** A user's notification preferences; only what they changed is stored (every type is on by default). */
export type NotificationPreferencesRow = {
  user_id: string
  push: Record<string, boolean>
  email: Record<string, boolean>
  quiet_hours: { start: string; end: string; timeZone: string } | null
  updated_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    push_devices: Table<
      PushDeviceRow,
      | 'id'
      | 'token'
      | 'endpoint'
      | 'p256dh'
      | 'auth'
      | 'address'
      | 'locale'
      | 'created_at'
      | 'updated_at'
      | 'last_push_at'
    >
    push_outbox: Table<
      PushOutboxRow,
      | 'id'
      | 'device_id'
      | 'parent_id'
      | 'event_seq'
      | 'notification_id'
      | 'source'
      | 'payload'
      | 'dedupe_key'
      | 'status'
      | 'attempts'
      | 'next_attempt_at'
      | 'claimed_until'
      | 'claim_token'
      | 'sent_at'
      | 'provider_id'
      | 'last_error'
      | 'created_at'
    >
    notification_preferences: Table<NotificationPreferencesRow, 'push' | 'email' | 'quiet_hours' | 'updated_at'>
  }
}
