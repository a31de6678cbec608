import { mkdirSync } from 'node:fs'
import path from 'node:path'
import fastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { blobDeletionJob } from './blob-deletions.js'
import { createBlobStore, LocalBlobStore, type BlobStore } from './blob-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Where listing photos are stored (Vercel Blob, or local disk served at /uploads/). */
    blobs: BlobStore
  }
}

/**
 * The images feature: the configured blob store (`app.blobs`), the sweeper job that deletes
 * orphaned files, and, for the local store, the static serving of `/uploads/`. Registered
 * before the features that store photos (listings).
 */
export const imagesFeature = fp(
  async (app: FastifyInstance) => {
    const blobs = createBlobStore(app.config)
    app.decorate('blobs', blobs)
    app.sweeper.register(blobDeletionJob(blobs))

    if (blobs instanceof LocalBlobStore) {
      mkdirSync(blobs.root, { recursive: true })
      await app.register(fastifyStatic, {
        root: path.resolve(blobs.root),
        prefix: '/uploads/',
        decorateReply: false,
        index: false,
        dotfiles: 'deny',
        // Photos are immutable (new pathname per upload) and embedded by other origins' pages.
        immutable: true,
        maxAge: '365d',
        setHeaders: (reply) => {
          reply.header('cross-origin-resource-policy', 'cross-origin')
        },
      })
    }
  },
  { name: 'oja-images' },
)
