import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorCtx } from '../http/index.js'
import { routeLimit } from '../http/index.js'
import { problems } from '../shared/index.js'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { CheckoutBody, CheckoutResult } from './checkout.schemas.js'
import type { CheckoutService } from './checkout.service.js'

export const checkoutRoutes: FastifyPluginAsyncTypebox<{ checkout: CheckoutService; rateLimitScale: number }> = async (
  app,
  { checkout, rateLimitScale },
) => {
  app.post(
    '/v1/checkout',
    {
      schema: {
        operationId: 'checkout',
        tags: ['checkout'],
        summary:
          'Check out the cart: reserves stock for RESERVATION_TTL_SECONDS, creates the order and starts the Paystack payment. Needs an Idempotency-Key',
        headers: IdempotencyHeaders,
        body: CheckoutBody,
        response: { 201: CheckoutResult, ...problems(401, 403, 404, 409, 429, 503) },
      },
      config: {
        auth: 'required',
        idempotency: 'required',
        ...routeLimit(rateLimitScale, 30, '1 minute', (req) => `checkout:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const ctx = actorCtx(req)
      const run = () => checkout.checkout(ctx, req.body)
      // A code typed at checkout is a lookup like the cart's: failed ones are limited.
      const result = req.body.couponCode
        ? await req.server.coupons.guard.lookup({ userId: ctx.actor.id, ip: req.ip }, run)
        : await run()
      return reply.code(201).header('location', `/v1/orders/${result.order.id}`).send(result)
    },
  )
}
