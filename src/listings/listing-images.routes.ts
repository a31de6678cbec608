import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest } from 'fastify'
import { actorCtx, HttpErrors } from '../http/index.js'
import { routeLimit } from '../http/index.js'
import { MAX_IMAGE_BYTES } from '../images/index.js'
import { IdParams, problems } from '../shared/index.js'
import { invalidField } from './listings.errors.js'
import { ImageOrderBody, ImageParams, ListingImage, ListingImageBatch } from './listings.schemas.js'
import { MAX_IMAGES_PER_LISTING, type ListingImagesService } from './listing-images.service.js'

const tags = ['catalogue']

/**
 * The bytes of each `file` part of an upload, in order. Anything else is refused (400), and a
 * part over the size limit answers 413 naming it (`/body/file/<index>`).
 */
async function* photoParts(req: FastifyRequest): AsyncGenerator<Buffer> {
  let index = 0
  for await (const part of req.parts()) {
    if (part.type !== 'file' || part.fieldname !== 'file') {
      if (part.type === 'file') part.file.resume()
      throw invalidField('/body/file', 'send the photos as multipart fields named file')
    }
    const path = `/body/file/${index++}`
    try {
      yield await part.toBuffer()
    } catch (err) {
      if ((err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
        throw HttpErrors.payloadTooLarge('The file is too large').with({
          errors: [{ path, message: `larger than ${MAX_IMAGE_BYTES / 1024 / 1024} MB` }],
        })
      throw err
    }
  }
}

/**
 * Photo routes. Registered as their own encapsulated plugin: multipart parsing exists only
 * here, so every other route still answers 415 to anything but JSON.
 */
export const listingImagesRoutes: FastifyPluginAsyncTypebox<{
  images: ListingImagesService
  rateLimitScale: number
}> = async (app, { images, rateLimitScale }) => {
  await app.register(multipart, {
    throwFileSizeLimit: true,
    // One more file than a listing may hold, so the part over the limit is named by our own 409.
    limits: {
      fileSize: MAX_IMAGE_BYTES,
      files: MAX_IMAGES_PER_LISTING + 1,
      fields: 5,
      parts: MAX_IMAGES_PER_LISTING + 6,
      fieldSize: 1024,
      headerPairs: 100,
    },
  })

  app.post(
    '/v1/listings/:id/images',
    {
      schema: {
        operationId: 'uploadListingImages',
        tags,
        summary:
          'Add photos (multipart fields `file`: JPEG, PNG or WebP by content, max 10 MB each, max 5 per listing)',
        description:
          'One `file` part answers the photo itself. Several `file` parts answer `{items}` in the order sent, ' +
          'all or none: when any part is refused (not an image by content, too large, over the 5-photo limit ' +
          'counting the photos the listing has) nothing is stored and the problem names the part in `errors` ' +
          '(`/body/file/<index>`, from 0).',
        consumes: ['multipart/form-data'],
        // For the OpenAPI document only: the multipart stream is read in the handler, so the
        // validated body is empty.
        body: Type.Object({
          file: Type.Optional(
            Type.Array(Type.String({ format: 'binary' }), {
              description: 'The photos (JPEG, PNG or WebP), one part each',
              maxItems: MAX_IMAGES_PER_LISTING,
            }),
          ),
        }),
        params: IdParams,
        response: {
          201: Type.Union([ListingImage, ListingImageBatch], {
            description: 'The photo (one part sent), or `{items}` (several)',
          }),
          ...problems(400, 401, 403, 404, 409, 413, 415, 429, 503),
        },
      },
      config: {
        auth: 'required',
        ...routeLimit(rateLimitScale, 30, '1 minute', (req) => `image-upload:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const stored = await images.upload(actorCtx(req), req.params.id, photoParts(req))
      // A photo has no GET of its own: Location names the listing that now shows it.
      return reply
        .code(201)
        .header('location', `/v1/listings/${req.params.id}`)
        .send(stored.length === 1 ? stored[0]! : { items: stored })
    },
  )

  app.delete(
    '/v1/listings/:id/images/:imageId',
    {
      schema: {
        operationId: 'deleteListingImage',
        tags,
        summary: 'Delete a photo (its files too)',
        params: ImageParams,
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409, 503) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await images.remove(actorCtx(req), req.params.id, req.params.imageId)
      return reply.code(204).send(null)
    },
  )

  app.put(
    '/v1/listings/:id/images/order',
    {
      schema: {
        operationId: 'reorderListingImages',
        tags,
        summary: 'Reorder the photos (the first is the cover)',
        params: IdParams,
        body: ImageOrderBody,
        response: { 200: Type.Array(ListingImage), ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => images.reorder(actorCtx(req), req.params.id, req.body.imageIds),
  )
}
