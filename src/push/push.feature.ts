import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Presence } from '../chat/index.js'
import type { Config } from '../config.js'
import { createPushSenders, type PushConfig, type PushPlatform, type PushSender } from './providers.js'
import { pushRoutes } from './push.routes.js'
import { pushHook } from './unread.js'
import { PushWorker, purgePushJob, type PushPass } from './worker.js'

/** What the push feature offers the node (tests drive its worker and swap its senders). */
export type PushModule = {
  worker: PushWorker
  /** One delivery pass now (tests; the worker's own loop does this when started). */
  deliverDue: () => Promise<PushPass>
  /** Replaces the senders (tests: a recording sender; any platform left out keeps its sender). */
  useSenders: (senders: Partial<Record<PushPlatform, PushSender>>) => void
}

declare module 'fastify' {
  interface FastifyInstance {
    push: PushModule
  }
}

export type PushFeatureOptions = {
  /** Who has a live connection on any node (the realtime layer's); default: nobody, so every push goes. */
  presence?: Presence
  /** The senders per platform; default: the providers configured by the environment (the log without keys). */
  senders?: Partial<Record<PushPlatform, PushSender>>
}

/** The providers' configuration from the environment: a platform without its keys is left out (logged). */
export function pushConfigOf(config: Config): PushConfig {
  return {
    ...(config.VAPID_PUBLIC_KEY && config.VAPID_PRIVATE_KEY
      ? {
          vapid: {
            publicKey: config.VAPID_PUBLIC_KEY,
            privateKey: config.VAPID_PRIVATE_KEY,
            subject: config.VAPID_SUBJECT ?? config.publicUrl,
          },
        }
      : {}),
    ...(config.FCM_SERVICE_ACCOUNT
      ? {
          fcm: {
            serviceAccount: config.FCM_SERVICE_ACCOUNT,
            ...(config.FCM_BASE_URL ? { baseUrl: config.FCM_BASE_URL } : {}),
            ...(config.GOOGLE_TOKEN_URL ? { tokenUrl: config.GOOGLE_TOKEN_URL } : {}),
          },
        }
      : {}),
    // Expo needs no key: in production it always sends; elsewhere only when pointed somewhere.
    ...(config.EXPO_ACCESS_TOKEN || config.EXPO_PUSH_URL || config.NODE_ENV === 'production'
      ? {
          expo: {
            ...(config.EXPO_ACCESS_TOKEN ? { accessToken: config.EXPO_ACCESS_TOKEN } : {}),
            ...(config.EXPO_PUSH_URL ? { pushUrl: config.EXPO_PUSH_URL } : {}),
          },
        }
      : {}),
    timeoutMs: 10_000,
  }
}

/**
 * Push (issue: devices, push and preferences): devices, notification preferences, unread
 * counts, and the push outbox its worker delivers. It hooks the event spine: the outbox rows
 * and `unread:updated` are written in the transactions of the events that cause them.
 */
export const pushFeature = fp<PushFeatureOptions>(
  async (app: FastifyInstance, opts) => {
    const log = app.log.child({ module: 'push' })
    let senders: Record<PushPlatform, PushSender> = {
      ...createPushSenders(pushConfigOf(app.config), log),
      ...opts.senders,
    }
    const presence: Presence = opts.presence ?? { isOnline: async () => false }
    const worker = new PushWorker({
      db: app.db,
      log,
      presence: () => presence,
      senders: () => senders,
      batch: app.config.PUSH_WORKER_BATCH,
      pollMs: app.config.PUSH_POLL_INTERVAL_MS,
    })
    // The outbox rows and `unread:updated` (one statement when an append needs both).
    app.spine.onAppend(pushHook(app.spine, () => worker.kick()))
    app.decorate('push', {
      worker,
      deliverDue: () => worker.deliverDue(),
      useSenders: (next) => {
        senders = { ...senders, ...next }
      },
    } satisfies PushModule)
    await app.register(pushRoutes, { vapidPublicKey: app.config.VAPID_PUBLIC_KEY })
    app.sweeper.register(purgePushJob)
  },
  { name: 'oja-push' },
)
