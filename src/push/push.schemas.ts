import { Type } from '@sinclair/typebox'
import { Id, OrNull, StrictObject, StringEnum, Timestamp } from '../shared/index.js'
import { NOTIFICATION_TYPES } from './preferences.js'

export const Platform = StringEnum(['webpush', 'fcm', 'expo'] as const)

const Base64Url = (description: string) =>
  Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9_-]+={0,2}$', description })

export const RegisterDeviceBody = StrictObject(
  {
    platform: Platform,
    token: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 4096,
        pattern: '^\\S+$',
        description: 'FCM registration token, or Expo push token (`ExponentPushToken[...]`)',
      }),
    ),
    subscription: Type.Optional(
      StrictObject(
        {
          endpoint: Type.String({ minLength: 1, maxLength: 2048, description: 'The push service URL (http or https)' }),
          keys: StrictObject({
            p256dh: Base64Url("The browser's P-256 public key"),
            auth: Base64Url('The auth secret'),
          }),
          expirationTime: Type.Optional(OrNull(Type.Number())),
        },
        { description: "Web Push: the browser's `PushSubscription.toJSON()`" },
      ),
    ),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, description: 'BCP 47, e.g. `en-NG`' })),
  },
  { title: 'RegisterDeviceBody' },
)

export const RegisteredDevice = Type.Object(
  { id: Id, platform: Platform, createdAt: Timestamp },
  { title: 'RegisteredDevice' },
)

export const Device = Type.Object(
  {
    id: Id,
    platform: Platform,
    createdAt: Timestamp,
    lastPushAt: Type.Optional(Timestamp),
    locale: Type.Optional(Type.String()),
    current: Type.Boolean({ description: 'Registered by the session making this request' }),
  },
  { title: 'Device' },
)

const typeMap = (description: string) =>
  Type.Object(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, Type.Boolean()])), { description })
const typePatch = (description: string) =>
  StrictObject(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, Type.Optional(Type.Boolean())])), {
    description,
  })

const ClockTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: '`HH:MM`, 24-hour' })
export const QuietHours = StrictObject(
  {
    start: ClockTime,
    end: ClockTime,
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. `Africa/Lagos`' }),
  },
  {
    title: 'QuietHours',
    description: 'From `start` to `end` (across midnight when `end` is earlier) pushes are silent: badge only',
  },
)

export const NotificationPreferences = Type.Object(
  {
    push: typeMap('Push per notification type'),
    email: typeMap('Email per notification type'),
    quietHours: OrNull(QuietHours),
    unreadDigest: Type.Boolean({ description: 'A mail when chat messages stay unread' }),
  },
  { title: 'NotificationPreferences' },
)

export const NotificationPreferencesPatch = StrictObject(
  {
    push: Type.Optional(typePatch('Types to switch on or off; others are kept')),
    email: Type.Optional(typePatch('Types to switch on or off; others are kept')),
    quietHours: Type.Optional(OrNull(QuietHours)),
    unreadDigest: Type.Optional(Type.Boolean()),
  },
  { title: 'NotificationPreferencesPatch' },
)

export const Unread = Type.Object(
  {
    notifications: Type.Integer({ minimum: 0, description: 'Unread notifications' }),
    messages: Type.Integer({ minimum: 0, description: 'Unread chat messages addressed to me' }),
    conversations: Type.Integer({ minimum: 0, description: 'Conversations with unread messages' }),
  },
  { title: 'Unread' },
)

export const VapidPublicKey = Type.Object(
  { publicKey: Type.String({ description: 'base64url' }) },
  { title: 'VapidPublicKey' },
)
