import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { cartRoutes } from './cart.routes.js'
import { releaseExpiredReservations } from './pricing.js'

/** The cart feature: the cart's routes, and the job that tidies up the checkout's expired stock holds. */
export const cartFeature = fp(
  async (app: FastifyInstance) => {
    await app.register(cartRoutes)
    app.sweeper.register({ name: 'commerce-release-reservations', run: (trx) => releaseExpiredReservations(trx) })
  },
  { name: 'oja-cart', dependencies: ['oja-auth', 'oja-errors'] },
)
