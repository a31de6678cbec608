import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import type { FastifyRequest } from 'fastify'
import { actorCtx, HttpErrors } from '../http/index.js'
import { MAX_IMAGE_BYTES } from '../images/index.js'
import { Errors, IdParams, problems } from '../shared/index.js'
import type { ChatImagesService, ImageUpload } from './chat-images.service.js'
import { ClientId, ImageFileParams, MessageBodyText, SendImageBody } from './chat.schemas.js'

const invalid = (path: string, message: string) => Errors.validation(`${path}: ${message}`, [{ path, message }])

/** Reads a photo message's multipart request: one `file`, and optionally `clientId` and `caption`, in any order. */
async function readImageUpload(req: FastifyRequest): Promise<ImageUpload> {
  let file: Buffer | undefined
  const fields: { clientId?: string; caption?: string } = {}
  for await (const part of req.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || file) {
        part.file.resume()
        throw invalid('/body/file', 'send one photo as a multipart field named file')
      }
      try {
        file = await part.toBuffer()
      } catch (err) {
        if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
          throw HttpErrors.payloadTooLarge('The file is too large').with({
            errors: [{ path: '/body/file', message: `larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB` }],
          })
        throw err
      }
    } else if (part.fieldname === 'clientId' || part.fieldname === 'caption') {
      const value = String(part.value)
      if (!Value.Check(part.fieldname === 'clientId' ? ClientId : MessageBodyText, value))
        throw invalid(
          `/body/${part.fieldname}`,
          part.fieldname === 'clientId' ? 'not a valid clientId' : '1 to 4 000 characters, not only spaces',
        )
      fields[part.fieldname] = value
    } else {
      throw invalid(`/body/${part.fieldname}`, 'unknown field (expected file, clientId, caption)')
    }
  }
  if (!file) throw invalid('/body/file', 'send the photo as a multipart field named file')
  return { file, ...fields }
}

/**
 * Photo messages: the upload (multipart, in this encapsulated plugin only, so every other chat
 * route still answers 415 to anything but JSON) and the participants-only file route.
 */
export const chatImagesRoutes: FastifyPluginAsyncTypebox<{ images: ChatImagesService }> = async (app, { images }) => {
  const tags = ['chat']
  await app.register(multipart, {
    throwFileSizeLimit: true,
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 2, parts: 3, fieldSize: 16 * 1024, headerPairs: 100 },
  })

  app.post(
    '/v1/conversations/:id/images',
    {
      schema: {
        operationId: 'sendImageMessage',
        tags,
        summary: 'Send a photo (multipart field `file`; optional `clientId` and `caption`)',
        description:
          'A message of kind `image`, delivered like any message (`message:new` to both participants). ' +
          'The photo is checked by content (JPEG, PNG or WebP, max 10 MB), stripped of its metadata and ' +
          'stored privately: its `image` URLs are Oja URLs that answer only the two participants. `body` ' +
          'is the caption (empty without one). A resend with the same `clientId` stores nothing and ' +
          'answers 200 with the original.',
        consumes: ['multipart/form-data'],
        params: IdParams,
        // For the OpenAPI document only: the multipart stream is read in the handler.
        body: SendImageBody,
        response: {
          200: Type.Ref('Message'),
          201: Type.Ref('Message'),
          ...problems(400, 401, 403, 404, 409, 413, 415, 429, 503),
        },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      const { created, message } = await images.send(actorCtx(req), req.params.id, () => readImageUpload(req))
      return reply
        .code(created ? 201 : 200)
        .header('location', `/v1/conversations/${req.params.id}/messages`)
        .send(message)
    },
  )

  app.get(
    '/v1/conversations/:id/images/:imageId/:variant',
    {
      schema: {
        operationId: 'getImageMessageFile',
        tags,
        summary: "A chat photo's file (WebP), for the conversation's participants only",
        description: 'Anyone else, signed in or not, gets 404 (or 401): the files have no public URL.',
        params: ImageFileParams,
        response: {
          200: {
            description: 'The WebP file',
            content: { 'image/webp': { schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }) } },
          },
          ...problems(401, 403, 404, 503),
        },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      const bytes = await images.file(actorCtx(req), req.params.id, req.params.imageId, req.params.variant)
      // Immutable (a new id per photo), but only for this user's own cache.
      return reply
        .header('content-type', 'image/webp')
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(bytes)
    },
  )
}
