import { defineError } from '../shared/index.js'

/** Error codes of devices, push and notification preferences (stable; clients switch on them). */
export const PushErrors = {
  /** No such device among the caller's (another user's device is not revealed). */
  deviceNotFound: defineError('DEVICE_NOT_FOUND', 404, 'Device not found'),
  /** This server has no VAPID keys: web clients cannot subscribe to push here. */
  webPushNotConfigured: defineError('WEB_PUSH_NOT_CONFIGURED', 404, 'Web Push is not configured on this server'),
}
