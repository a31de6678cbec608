import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type TSchema } from '@sinclair/typebox'
import { Id, OrNull, problems } from '../shared/index.js'
import { categoryTree } from './categories.service.js'

export const CategoryNode = Type.Recursive(
  (Self: TSchema) =>
    Type.Object({
      id: Id,
      name: Type.String(),
      slug: Type.String(),
      parentId: OrNull(Id),
      children: Type.Array(Self),
    }),
  { $id: 'CategoryNode' },
)

export const categoriesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/categories',
    {
      schema: {
        operationId: 'getCategoryTree',
        tags: ['catalogue'],
        summary: 'The category tree',
        response: { 200: Type.Array(Type.Ref('CategoryNode')), ...problems() },
      },
    },
    async (req) => categoryTree({ db: req.server.db }),
  )
}
