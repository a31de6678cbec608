import multipart from '@fastify/multipart'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { routeLimit } from '../http/index.js'
import { MAX_IMAGE_BYTES } from '../images/index.js'
import { IdParams, problems } from '../shared/index.js'
import { invalidField } from './listings.errors.js'
import { ImageOrderBody, ImageParams, ListingImage } from './listings.schemas.js'
import type { ListingImagesService } from './listing-images.service.js'

const tags = ['catalogue']

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
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 5, parts: 6, fieldSize: 1024, headerPairs: 100 },
  })

  app.post(
    '/v1/listings/:id/images',
    {
      schema: {
        operationId: 'uploadListingImages',
        tags,
        summary: 'Add a photo (multipart field `file`: JPEG, PNG or WebP by content, max 10 MB, max 5 per listing)',
        consumes: ['multipart/form-data'],
        // For the OpenAPI document only: the multipart stream is read in the handler, so the
        // validated body is empty.
        body: Type.Object({
          file: Type.Optional(Type.String({ format: 'binary', description: 'The photo (JPEG, PNG or WebP)' })),
        }),
        params: IdParams,
        response: { 201: ListingImage, ...problems(401, 403, 404, 409, 413, 415, 429, 503) },
      },
      config: {
        auth: 'required',
        ...routeLimit(rateLimitScale, 30, '1 minute', (req) => `image-upload:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const image = await images.upload(actorCtx(req), req.params.id, async () => {
        const file = await req.file()
        if (!file) throw invalidField('/body/file', 'send the photo as a multipart field named file')
        if (file.fieldname !== 'file') {
          file.file.resume()
          throw invalidField('/body/file', 'send the photo as a multipart field named file')
        }
        return file.toBuffer()
      })
      // A photo has no GET of its own: Location names the listing that now shows it.
      return reply.code(201).header('location', `/v1/listings/${req.params.id}`).send(image)
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
