import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { CategoryNode, categoriesRoutes } from './categories.routes.js'

/** The categories feature: the `CategoryNode` schema and the public tree route. */
export const categoriesFeature = fp(
  async (app: FastifyInstance) => {
    app.addSchema(CategoryNode)
    await app.register(categoriesRoutes)
  },
  { name: 'oja-categories' },
)
