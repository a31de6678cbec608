import type { FastifyBaseLogger } from 'fastify'

/**
 * The push providers' interface (src/push/providers.ts implements it for Web Push, FCM and
 * Expo). TEMPORARY home until providers.ts lands with these same names: at merge they move
 * there and this file re-exports them (or goes, with its importers pointed at providers.js).
 */
export type PushPlatform = 'webpush' | 'fcm' | 'expo'

export type PushDevice = {
  id: string
  platform: PushPlatform
  token: string | null
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } } | null
}

export type PushMessage = {
  title: string
  body: string
  data: Record<string, string>
  collapseKey?: string
  badge?: number
  silent?: boolean
  ttlSeconds?: number
}

export type PushResult =
  | { outcome: 'sent'; providerId?: string }
  | { outcome: 'gone' }
  | { outcome: 'retry'; retryAfterMs?: number; error: string }
  | { outcome: 'failed'; error: string }

export interface PushSender {
  readonly platform: PushPlatform
  send(device: PushDevice, message: PushMessage): Promise<PushResult>
}

export type PushConfig = {
  vapid?: { publicKey: string; privateKey: string; subject: string }
  fcm?: { serviceAccount: string; baseUrl?: string; tokenUrl?: string }
  expo?: { accessToken?: string; pushUrl?: string }
  timeoutMs?: number
}

export type CreatePushSenders = (config: PushConfig, log: FastifyBaseLogger) => Record<PushPlatform, PushSender>
