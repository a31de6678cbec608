/**
 * STUB, replaced at merge by the real providers (Web Push, FCM HTTP v1, Expo) written in
 * parallel. It keeps the same exports; until then every platform's sender writes the push to
 * the log, which is also what the real module does for a platform without keys.
 */
import type { FastifyBaseLogger } from 'fastify'
import type { PushConfig, PushPlatform, PushSender } from './push.types.js'

export type { PushConfig, PushDevice, PushMessage, PushPlatform, PushResult, PushSender } from './push.types.js'

const logSender = (platform: PushPlatform, log: FastifyBaseLogger): PushSender => ({
  platform,
  send: async (device, message) => {
    log.info(
      { platform, deviceId: device.id, title: message.title, body: message.body, data: message.data },
      'push (no provider keys: logged, not sent)',
    )
    return { outcome: 'sent' }
  },
})

/** The senders of each platform for this configuration. */
export function createPushSenders(_config: PushConfig, log: FastifyBaseLogger): Record<PushPlatform, PushSender> {
  return { webpush: logSender('webpush', log), fcm: logSender('fcm', log), expo: logSender('expo', log) }
}
