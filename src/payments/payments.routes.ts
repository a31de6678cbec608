import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Background } from './background.js'
import { actorCtx, routeLimit } from '../http/index.js'
import { Id, OrNull, Page, PageQuery, problems, StrictObject, StringEnum, Timestamp } from '../shared/index.js'
import { PaymentErrors } from './payments.errors.js'
import type { PaymentsService } from './payments.service.js'
import type { WebhookPayload } from './webhooks.js'
import { isAllowedWebhookSource, isValidPaystackSignature } from './webhook-signature.js'

const tags = ['payments']

/** Paystack's payload: an event and its data. Not strict: Paystack adds fields over time. */
const PaystackEvent = Type.Object(
  { event: Type.String({ minLength: 1, maxLength: 100 }), data: Type.Object({}, { additionalProperties: true }) },
  { additionalProperties: true },
)

/** A payment Oja could not settle by itself (GET /v1/admin/payments/unsettled). */
const UnsettledPayment = Type.Object(
  {
    id: Id,
    reference: Type.String(),
    orderId: OrNull(Id),
    kind: StringEnum(['amount_mismatch', 'unconfirmed', 'unknown_transaction', 'balance_mismatch'] as const, {
      description:
        'amount_mismatch: Paystack took another amount or currency than the order; unconfirmed: Paystack could not confirm it within 72 h; unknown_transaction: a Paystack success Oja has no payment for; balance_mismatch: captured − refunded differs between Paystack and Oja',
    }),
    paystackAmount: OrNull(
      Type.Integer({ description: 'What Paystack holds (captured − refunded), kobo, where known' }),
    ),
    ojaAmount: OrNull(Type.Integer({ description: 'What Oja holds (captured − refunded), kobo, where known' })),
    currency: OrNull(Type.String()),
    detail: Type.String(),
    firstSeenAt: Timestamp,
    lastSeenAt: Timestamp,
    resolvedAt: OrNull(Timestamp),
  },
  { description: 'A payment Oja could not settle by itself' },
)
const UnsettledQuery = StrictObject({
  resolved: Type.Optional(Type.Boolean({ description: 'true: the resolved ones instead of the open ones' })),
  ...PageQuery,
})

export type PaymentsRoutesOptions = {
  payments: PaymentsService
  background: Background
  secretKey: string
  webhookIps?: string
  rateLimitScale: number
}

export const paymentsRoutes: FastifyPluginAsyncTypebox<PaymentsRoutesOptions> = async (
  app,
  { payments, background, secretKey, webhookIps, rateLimitScale },
) => {
  app.post(
    '/v1/webhooks/paystack',
    {
      schema: {
        operationId: 'receivePaystackWebhook',
        tags,
        summary:
          'Paystack events (x-paystack-signature = HMAC-SHA512 of the raw body); answered at once, processed after',
        headers: Type.Object({ 'x-paystack-signature': Type.Optional(Type.String()) }),
        body: PaystackEvent,
        response: { 200: Type.Object({ received: Type.Boolean(), duplicate: Type.Boolean() }), ...problems(401, 403) },
      },
      config: { rawBody: true },
      // Before the body is validated: a forged request gets 401 whatever its shape.
      preValidation: async (req) => {
        if (!isAllowedWebhookSource(req.ip, webhookIps)) throw PaymentErrors.sourceNotAllowed()
        if (!isValidPaystackSignature(req.rawBody, req.headers['x-paystack-signature'], secretKey))
          throw PaymentErrors.badSignature()
      },
    },
    async (req) => {
      const ctx = { db: app.db, log: req.log, requestId: req.id }
      const eventId = await payments.recordWebhook(ctx, req.body as WebhookPayload, req.rawBody!)
      if (eventId) background.run('paystack-webhook', () => payments.processEvent(ctx, eventId))
      return { received: true, duplicate: !eventId }
    },
  )

  app.get(
    '/v1/payments/paystack/callback',
    {
      schema: {
        operationId: 'paystackCallbackPage',
        tags,
        summary:
          'Where Paystack sends the browser after paying: the server verifies the payment and shows the outcome (HTML)',
        querystring: Type.Object(
          {
            reference: Type.Optional(Type.String({ maxLength: 200 })),
            trxref: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.String({ description: 'text/html' }), ...problems(429) },
      },
      config: { ...routeLimit(rateLimitScale, 30, '1 minute') },
    },
    async (req, reply) => {
      const reference = req.query.reference ?? req.query.trxref
      let message = 'No payment reference was given.'
      if (reference) {
        try {
          const r = await payments.confirmByReference({ db: app.db, log: req.log, requestId: req.id }, reference)
          message =
            r.outcome === 'paid' || r.outcome === 'already'
              ? 'Payment confirmed. Your order is paid; you can return to the app.'
              : r.outcome === 'late_refunded'
                ? 'Your payment arrived after the reservation expired and the item was gone, so it is being refunded.'
                : r.outcome === 'unknown_reference'
                  ? 'We do not know this payment.'
                  : 'The payment is not complete yet.'
        } catch {
          message = 'We could not reach Paystack to confirm the payment; the app will confirm it shortly.'
        }
      }
      return reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><meta charset="utf-8"><title>Oja payment</title>` +
            `<body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto">` +
            `<h1>Oja</h1><p>${message}</p></body></html>`,
        )
    },
  )

  app.get(
    '/v1/admin/payments/unsettled',
    {
      schema: {
        operationId: 'listUnsettledPayments',
        tags: ['admin'],
        summary:
          'Payments Oja could not settle by itself (money without goods or refund, or the reverse), newest first; an entry resolves itself once Paystack and Oja agree',
        querystring: UnsettledQuery,
        response: { 200: Page(UnsettledPayment), ...problems(401, 403) },
      },
      config: { auth: 'admin' },
    },
    async (req) => payments.listUnsettled(actorCtx(req), req.query),
  )
}
