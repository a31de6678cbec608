import type { FastifyBaseLogger } from 'fastify'
import { createExpoSender } from './providers/expo.js'
import { createFcmSender } from './providers/fcm.js'
import { createWebPushSender } from './providers/webpush.js'

/*
 * The push services: the only code that talks to Web Push endpoints, FCM and Expo. Each
 * sender sends one push to one device and says what became of it; the outbox decides what to
 * do next (delete a gone device, retry later, give up). Senders never throw for a push that
 * did not go: every failure is an outcome.
 */

export type PushPlatform = 'webpush' | 'fcm' | 'expo'

export type PushDevice = {
  id: string
  platform: PushPlatform
  /** FCM registration token or Expo push token (`ExponentPushToken[...]`). */
  token: string | null
  /** Web Push subscription. */
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } } | null
}

export type PushMessage = {
  title: string
  body: string
  /** What the app needs to open the right screen; all values strings (FCM requires it). */
  data: Record<string, string>
  /** Collapses pushes of one thread (a conversation): Web Push Topic (hash to ≤32 base64url chars), FCM android.collapse_key + apns-collapse-id, Expo collapseId. */
  collapseKey?: string
  /** The app icon badge (APNs aps.badge via FCM, Expo badge). */
  badge?: number
  /** Quiet hours: no alert/sound, badge and data only (FCM: data-only message with apns content-available; Web Push: payload with silent:true; Expo: no title/body, _contentAvailable). */
  silent?: boolean
  ttlSeconds?: number
}

export type PushResult =
  | { outcome: 'sent'; providerId?: string }
  /** The token/subscription is dead: delete the device (Web Push 404/410, FCM 404 UNREGISTERED or 400 INVALID_ARGUMENT on the token, Expo DeviceNotRegistered; also a device whose token or subscription cannot be used at all). */
  | { outcome: 'gone' }
  /** 429/5xx/timeouts/network; `retryAfterMs` when the service said how long to wait (Retry-After). */
  | { outcome: 'retry'; retryAfterMs?: number; error: string }
  /** Permanent, not the token's fault (413 payload too big, 400 other, auth misconfigured). */
  | { outcome: 'failed'; error: string }

export interface PushSender {
  readonly platform: PushPlatform
  send(device: PushDevice, message: PushMessage): Promise<PushResult>
}

export type PushConfig = {
  vapid?: { publicKey: string; privateKey: string; subject: string }
  fcm?: { serviceAccount: string /* JSON text or a file path */; baseUrl?: string; tokenUrl?: string }
  expo?: { accessToken?: string; pushUrl?: string }
  timeoutMs?: number
}

/** How long one call to a push service (or to Google's token URL) may take. */
export const DEFAULT_PUSH_TIMEOUT_MS = 10_000

/**
 * One sender per platform that is configured; a platform without keys gets the log sender
 * (writes the push to the log, outcome 'sent'). Keys that cannot work (a VAPID key of the wrong
 * length, a service account that is not JSON or lacks its private key) throw here, at start-up,
 * rather than fail every push later.
 */
export function createPushSenders(config: PushConfig, log: FastifyBaseLogger): Record<PushPlatform, PushSender> {
  const timeoutMs = config.timeoutMs ?? DEFAULT_PUSH_TIMEOUT_MS
  return {
    webpush: config.vapid ? createWebPushSender({ ...config.vapid, timeoutMs }) : logSender('webpush', log),
    fcm: config.fcm ? createFcmSender({ ...config.fcm, timeoutMs }) : logSender('fcm', log),
    expo: config.expo ? createExpoSender({ ...config.expo, timeoutMs }) : logSender('expo', log),
  }
}

/** The log sender (used with no keys, e.g. `npm start`): the push goes to the log, outcome 'sent'. */
export function logSender(platform: PushPlatform, log: FastifyBaseLogger): PushSender {
  return {
    platform,
    send(device, message) {
      log.info(
        {
          push: {
            platform,
            deviceId: device.id,
            title: message.title,
            body: message.body,
            data: message.data,
            collapseKey: message.collapseKey,
            badge: message.badge,
            silent: message.silent ?? false,
            ttlSeconds: message.ttlSeconds,
          },
        },
        `push (${platform} not configured: logged, not sent)`,
      )
      return Promise.resolve({ outcome: 'sent' })
    },
  }
}

export { webPushTopic, WEB_PUSH_MAX_PLAINTEXT } from './providers/webpush.js'
export { loadServiceAccount, type ServiceAccount } from './providers/fcm.js'
export { retryAfterMs } from './providers/http.js'
