import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { IdParams, problems } from '../shared/index.js'
import { devicesService as devices } from './devices.js'
import { PushErrors } from './push.errors.js'
import {
  Device,
  NotificationPreferences,
  NotificationPreferencesPatch,
  RegisterDeviceBody,
  RegisteredDevice,
  Unread,
  VapidPublicKey,
} from './push.schemas.js'
import { preferencesService as preferences } from './preferences.js'
import { unreadOf } from './unread.js'

export const pushRoutes: FastifyPluginAsyncTypebox<{ vapidPublicKey: string | undefined }> = async (
  app,
  { vapidPublicKey },
) => {
  const tags = ['push']
  const auth = { auth: 'required' as const }

  app.post(
    '/v1/me/devices',
    {
      schema: {
        operationId: 'registerDevice',
        tags,
        summary: 'Register this device for push',
        description:
          'The same token (web push: the same `subscription.endpoint`) again answers 201 with the same id, the device moved to this session and user. A device belongs to the session that registered it: logout removes it.',
        body: RegisterDeviceBody,
        headers: IdempotencyHeaders,
        response: { 201: RegisteredDevice, ...problems(401, 403, 409) },
      },
      config: { ...auth, idempotency: 'optional' },
    },
    async (req, reply) => {
      const device = await devices.register(actorCtx(req), req.body)
      return reply.code(201).header('location', `/v1/me/devices/${device.id}`).send(device)
    },
  )

  app.get(
    '/v1/me/devices',
    {
      schema: {
        operationId: 'listDevices',
        tags,
        summary: 'My devices registered for push',
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...problems(401, 403) },
      },
      config: auth,
    },
    async (req) => devices.list(actorCtx(req)),
  )

  app.delete(
    '/v1/me/devices/:id',
    {
      schema: {
        operationId: 'deleteDevice',
        tags,
        summary: 'Remove one of my devices',
        params: IdParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404) },
      },
      config: auth,
    },
    async (req, reply) => {
      await devices.remove(actorCtx(req), req.params.id)
      return reply.code(204).send(null)
    },
  )

  app.get(
    '/v1/push/vapid-public-key',
    {
      schema: {
        operationId: 'getVapidPublicKey',
        tags,
        summary: "The server's VAPID public key, for web clients' subscriptions",
        description: '404 `WEB_PUSH_NOT_CONFIGURED` when this server has no VAPID keys.',
        response: { 200: VapidPublicKey, ...problems(404) },
      },
    },
    async () => {
      if (!vapidPublicKey) throw PushErrors.webPushNotConfigured()
      return { publicKey: vapidPublicKey }
    },
  )

  app.get(
    '/v1/me/notification-preferences',
    {
      schema: {
        operationId: 'getNotificationPreferences',
        tags,
        summary: 'My notification preferences',
        response: { 200: NotificationPreferences, ...problems(401, 403) },
      },
      config: auth,
    },
    async (req) => preferences.get(actorCtx(req)),
  )

  app.patch(
    '/v1/me/notification-preferences',
    {
      schema: {
        operationId: 'updateNotificationPreferences',
        tags,
        summary: 'Change my notification preferences (merged)',
        description:
          'Types given are set, the others kept; `quietHours: null` clears the quiet hours. An unknown type or time zone is 400.',
        body: NotificationPreferencesPatch,
        response: { 200: NotificationPreferences, ...problems(401, 403) },
      },
      config: auth,
    },
    async (req) => preferences.patch(actorCtx(req), req.body),
  )

  app.get(
    '/v1/me/unread',
    {
      schema: {
        operationId: 'getUnread',
        tags,
        summary: 'What I have not read, on any device (the badge is messages + notifications)',
        response: { 200: Unread, ...problems(401, 403) },
      },
      config: auth,
    },
    async (req) => {
      const ctx = actorCtx(req)
      return (await unreadOf(ctx.db, [ctx.actor.id])).get(ctx.actor.id)!
    },
  )
}
