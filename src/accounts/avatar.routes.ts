import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx, routeLimit } from '../http/index.js'
import { MAX_IMAGE_BYTES } from '../images/index.js'
import { Errors, problems } from '../shared/index.js'
import { Me } from './accounts.schemas.js'
import type { AvatarService } from './avatar.service.js'

const sendAsFile = () =>
  Errors.validation('/body/file: send the photo as a multipart field named file', [
    { path: '/body/file', message: 'send the photo as a multipart field named file' },
  ])

/**
 * PUT /v1/me/avatar. Its own encapsulated plugin: multipart parsing exists only here, so every
 * other accounts route still answers 415 to anything but JSON.
 */
export const avatarRoutes: FastifyPluginAsyncTypebox<{ avatars: AvatarService; rateLimitScale: number }> = async (
  app,
  { avatars, rateLimitScale },
) => {
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 1024, headerPairs: 100 },
  })

  app.put(
    '/v1/me/avatar',
    {
      schema: {
        operationId: 'replaceAvatar',
        tags: ['accounts'],
        summary: 'Upload my profile picture (multipart field `file`: JPEG, PNG or WebP by content, max 10 MB)',
        description:
          'The photo is checked by content, stripped of its metadata (EXIF, GPS) and stored as a square ' +
          '320×320 WebP; `avatarUrl` of the answer points at it. The previous uploaded picture is deleted.',
        consumes: ['multipart/form-data'],
        // For the OpenAPI document only: the multipart stream is read in the handler.
        body: Type.Object({
          file: Type.Optional(Type.String({ format: 'binary', description: 'The photo (JPEG, PNG or WebP)' })),
        }),
        response: { 200: Me, ...problems(400, 401, 403, 413, 415, 429, 503) },
      },
      config: {
        auth: 'required',
        ...routeLimit(rateLimitScale, 10, '1 minute', (req) => `avatar-upload:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req) =>
      avatars.replace(actorCtx(req), async () => {
        const file = await req.file()
        if (!file) throw sendAsFile()
        if (file.fieldname !== 'file') {
          file.file.resume()
          throw sendAsFile()
        }
        return file.toBuffer()
      }),
  )
}
