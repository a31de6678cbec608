import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { actorCtx } from '../http/index.js'
import { EmptyBody, IdParams, Page, problems } from '../shared/index.js'
import {
  ListOrdersQuery,
  ListSalesQuery,
  Order,
  RefundBody,
  RefundResult,
  Sale,
  ShipmentStatusBody,
  HandoverBody,
} from './orders.schemas.js'
import type { OrdersService } from './orders.service.js'

const tags = ['orders']

export const ordersRoutes: FastifyPluginAsyncTypebox<{ orders: OrdersService }> = async (app, { orders }) => {
  app.get(
    '/v1/orders',
    {
      schema: {
        operationId: 'listOrders',
        tags,
        summary: 'My orders as a buyer, newest first',
        querystring: ListOrdersQuery,
        response: { 200: Page(Order), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.list(actorCtx(req), req.query),
  )

  app.get(
    '/v1/orders/:id',
    {
      schema: {
        operationId: 'getOrder',
        tags,
        summary: 'An order: visible to its buyer, the sellers of its lines (their own lines) and admins',
        params: IdParams,
        response: { 200: Order, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.get(actorCtx(req), req.params.id),
  )

  app.post(
    '/v1/orders/:id/verify-payment',
    {
      schema: {
        operationId: 'verifyOrderPayment',
        tags,
        summary: 'After the Paystack redirect: the server asks Paystack and marks the order paid only when it is',
        params: IdParams,
        body: EmptyBody,
        response: { 200: Order, ...problems(401, 403, 404, 409, 503) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.verifyPayment(actorCtx(req), req.params.id),
  )

  app.post(
    '/v1/orders/:id/cancel',
    {
      schema: {
        operationId: 'cancelOrder',
        tags,
        summary: 'The buyer cancels before anything is sent; a paid order is refunded',
        params: IdParams,
        body: EmptyBody,
        headers: IdempotencyHeaders,
        response: { 200: Order, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required', idempotency: 'optional' },
    },
    async (req) => orders.cancel(actorCtx(req), req.params.id),
  )

  app.get(
    '/v1/sales',
    {
      schema: {
        operationId: 'listSales',
        tags,
        summary: 'My shipments as a seller (paid orders), newest first',
        querystring: ListSalesQuery,
        response: { 200: Page(Sale), ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.sales(actorCtx(req), req.query),
  )

  app.post(
    '/v1/shipments/:id/status',
    {
      schema: {
        operationId: 'updateShipmentStatus',
        tags,
        summary:
          'The seller moves its shipment on: sent, en_route, delivered (forward only), with tracking number, carrier and note',
        params: IdParams,
        body: ShipmentStatusBody,
        response: { 200: Order, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.moveShipment(actorCtx(req), req.params.id, req.body),
  )

  app.post(
    '/v1/shipments/:id/received',
    {
      schema: {
        operationId: 'confirmShipmentReceived',
        tags,
        summary: 'The buyer confirms a delivered shipment arrived (opens reviews)',
        params: IdParams,
        body: EmptyBody,
        response: { 200: Order, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.confirmReceived(actorCtx(req), req.params.id),
  )

  app.post(
    '/v1/shipments/:id/handover',
    {
      schema: {
        operationId: 'handOverShipment',
        tags,
        summary:
          "The seller enters the buyer's 6-digit hand-over code at a meet-up: the shipment is received and its money released. 422 HANDOVER_CODE_WRONG; the 5th wrong code and every try after it 423 HANDOVER_LOCKED",
        params: IdParams,
        body: HandoverBody,
        response: { 200: Order, ...problems(401, 403, 404, 409, 422, 423) },
      },
      config: { auth: 'required' },
    },
    async (req) => orders.handover(actorCtx(req), req.params.id, req.body.code),
  )

  app.post(
    '/v1/admin/orders/:id/refund',
    {
      schema: {
        operationId: 'refundOrder',
        tags: ['admin'],
        summary:
          'Refund an order in full (no amount) or in part through Paystack. 201: Paystack accepted it; 202: queued, Paystack unreachable, retried',
        params: IdParams,
        body: RefundBody,
        headers: IdempotencyHeaders,
        response: { 201: RefundResult, 202: RefundResult, ...problems(401, 403, 404, 409, 502) },
      },
      config: { auth: 'admin', idempotency: 'optional' },
    },
    async (req, reply) => {
      const { status, body } = await orders.adminRefund(actorCtx(req), req.params.id, req.body)
      // A refund has no GET of its own: Location names the order it shows on.
      if (status === 201) reply.header('location', `/v1/orders/${req.params.id}`)
      return reply.code(status).send(body)
    },
  )
}
