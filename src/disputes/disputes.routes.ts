import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { actorCtx, routeLimit } from '../http/index.js'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { IdParams, problems } from '../shared/index.js'
import {
  Dispute,
  DisputeListQuery,
  DisputeMessage,
  DisputeMessageBody,
  DisputePage,
  DisputeWithMessages,
  OpenDisputeBody,
  ResolveDisputeBody,
} from './disputes.schemas.js'
import type { DisputesService } from './disputes.service.js'

const tags = ['disputes']

export const disputesRoutes: FastifyPluginAsyncTypebox<{ disputes: DisputesService; rateLimitScale: number }> = async (
  app,
  { disputes, rateLimitScale },
) => {
  app.post(
    '/v1/shipments/:id/disputes',
    {
      schema: {
        operationId: 'openDispute',
        tags,
        summary:
          'The buyer disputes a shipment before its money is released: the money goes on hold until an admin resolves it. 409 ALREADY_RELEASED after release, DISPUTE_EXISTS while one is open (its id in `disputeId`), NOTHING_IN_ESCROW when no money is held (a giveaway), DISPUTE_NOT_OPENABLE for an unpaid or cancelled order or shipment',
        params: IdParams,
        body: OpenDisputeBody,
        headers: IdempotencyHeaders,
        response: { 201: Dispute, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required', idempotency: 'optional' },
    },
    async (req, reply) => {
      const dispute = await disputes.open(actorCtx(req), req.params.id, req.body)
      return reply.code(201).header('location', `/v1/disputes/${dispute.id}`).send(dispute)
    },
  )

  app.get(
    '/v1/disputes',
    {
      schema: {
        operationId: 'listDisputes',
        tags,
        summary: 'My disputes as a buyer or a seller, newest first (admins see every dispute at /v1/admin/disputes)',
        querystring: DisputeListQuery,
        response: { 200: DisputePage, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => disputes.list(actorCtx(req), req.query),
  )

  app.get(
    '/v1/disputes/:id',
    {
      schema: {
        operationId: 'getDispute',
        tags,
        summary: 'A dispute with its thread (oldest message first): its buyer, its seller and admins',
        params: IdParams,
        response: { 200: DisputeWithMessages, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => disputes.get(actorCtx(req), req.params.id),
  )

  app.post(
    '/v1/disputes/:id/messages',
    {
      schema: {
        operationId: 'postDisputeMessage',
        tags,
        summary:
          "A message in an open dispute's thread by its buyer, its seller or an admin; the other parties get a `dispute` notification. 409 DISPUTE_RESOLVED once resolved; 20 per user per 10 s (as chat sends)",
        params: IdParams,
        body: DisputeMessageBody,
        headers: IdempotencyHeaders,
        response: { 201: DisputeMessage, ...problems(401, 403, 404, 409, 429) },
      },
      config: {
        auth: 'required',
        idempotency: 'optional',
        ...routeLimit(rateLimitScale, 20, '10 seconds', (req) => `dispute-message:${req.actor?.id ?? req.ip}`),
      },
    },
    async (req, reply) => {
      const message = await disputes.addMessage(actorCtx(req), req.params.id, req.body.body)
      return reply.code(201).header('location', `/v1/disputes/${req.params.id}`).send(message)
    },
  )

  app.get(
    '/v1/admin/disputes',
    {
      schema: {
        operationId: 'listAllDisputes',
        tags: ['admin'],
        summary: 'Every dispute (optionally by status), newest first',
        querystring: DisputeListQuery,
        response: { 200: DisputePage, ...problems(401, 403) },
      },
      config: { auth: 'admin' },
    },
    async (req) => disputes.adminList(actorCtx(req), req.query),
  )

  app.post(
    '/v1/admin/disputes/:id/resolve',
    {
      schema: {
        operationId: 'resolveDispute',
        tags: ['admin'],
        summary:
          "Decide an open dispute: `release` the shipment's money to the seller, `refund` the shipment's paid share to the buyer through Paystack, or `split` (refund `refundAmount`, release the rest). 400 without refundAmount on a split; 422 REFUND_EXCEEDS_SHIPMENT above the refundable amount; 409 DISPUTE_RESOLVED the second time; 502 REFUND_REJECTED when Paystack refuses the refund (the dispute stays resolved, the refund failed: admins are told)",
        params: IdParams,
        body: ResolveDisputeBody,
        headers: IdempotencyHeaders,
        response: { 200: Dispute, ...problems(401, 403, 404, 409, 422, 502) },
      },
      config: { auth: 'admin', idempotency: 'optional' },
    },
    async (req) => disputes.resolve(actorCtx(req), req.params.id, req.body),
  )
}
