import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import { IdempotencyHeaders } from '../idempotency/index.js'
import { EmptyBody, IdParams, problems } from '../shared/index.js'
import {
  AdminPayout,
  AdminPayoutPage,
  AdminPayoutsQuery,
  BankList,
  CreatePayoutBody,
  ListPayoutsQuery,
  Payout,
  PayoutAccount,
  PayoutAccountBody,
  PayoutPage,
} from './payouts.schemas.js'
import type { PayoutsService } from './payouts.service.js'

const tags = ['money']

export const payoutsRoutes: FastifyPluginAsyncTypebox<{ payouts: PayoutsService }> = async (app, { payouts }) => {
  app.get(
    '/v1/banks',
    {
      schema: {
        operationId: 'listBanks',
        tags,
        summary: 'Nigerian banks a payout can go to (from Paystack, cached for an hour)',
        response: { 200: BankList, ...problems(401, 403, 503) },
      },
      config: { auth: 'required' },
    },
    async () => payouts.banks(),
  )

  app.get(
    '/v1/me/payout-account',
    {
      schema: {
        operationId: 'getPayoutAccount',
        tags,
        summary: 'My payout account (the full account number is never shown); 404 when none',
        response: { 200: PayoutAccount, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => payouts.getAccount(actorCtx(req)),
  )

  app.put(
    '/v1/me/payout-account',
    {
      schema: {
        operationId: 'setPayoutAccount',
        tags,
        summary:
          'Set my payout account: Paystack resolves the name the bank holds and makes it a transfer recipient. 422 BANK_ACCOUNT_UNRESOLVED or BANK_CODE_UNKNOWN; 409 PAYOUT_IN_PROGRESS while a payout is on its way; a change is mailed to me',
        body: PayoutAccountBody,
        response: { 200: PayoutAccount, ...problems(401, 403, 409, 422, 503) },
      },
      config: { auth: 'required' },
    },
    async (req) => payouts.putAccount(actorCtx(req), req.body),
  )

  app.delete(
    '/v1/me/payout-account',
    {
      schema: {
        operationId: 'deletePayoutAccount',
        tags,
        summary:
          'Remove my payout account (mailed to me); 404 when none, 409 PAYOUT_IN_PROGRESS while a payout is on its way',
        response: { 204: Type.Null(), ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'required' },
    },
    async (req, reply) => {
      await payouts.removeAccount(actorCtx(req))
      return reply.code(204).send(null)
    },
  )

  app.post(
    '/v1/payouts',
    {
      schema: {
        operationId: 'createPayout',
        tags,
        summary:
          'Withdraw available money to my payout account (default: all of it). Needs an Idempotency-Key. 422 PAYOUT_NOT_ALLOWED (with `reason`) below PAYOUT_MIN_AMOUNT, above available, or without a payout account',
        headers: IdempotencyHeaders,
        body: CreatePayoutBody,
        response: { 201: Payout, ...problems(401, 403, 409, 422) },
      },
      config: { auth: 'required', idempotency: 'required' },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key']
      const payout = await payouts.create(actorCtx(req), req.body ?? {}, typeof key === 'string' ? key : undefined)
      return reply.code(201).header('location', `/v1/payouts/${payout.id}`).send(payout)
    },
  )

  app.get(
    '/v1/payouts',
    {
      schema: {
        operationId: 'listPayouts',
        tags,
        summary: 'My payouts, newest first',
        querystring: ListPayoutsQuery,
        response: { 200: PayoutPage, ...problems(401, 403) },
      },
      config: { auth: 'required' },
    },
    async (req) => payouts.list(actorCtx(req), req.query),
  )

  app.get(
    '/v1/payouts/:id',
    {
      schema: {
        operationId: 'getPayout',
        tags,
        summary: 'One of my payouts (admins: any)',
        params: IdParams,
        response: { 200: Payout, ...problems(401, 403, 404) },
      },
      config: { auth: 'required' },
    },
    async (req) => payouts.get(actorCtx(req), req.params.id),
  )

  app.get(
    '/v1/admin/payouts',
    {
      schema: {
        operationId: 'listAllPayouts',
        tags: ['admin'],
        summary: 'Payouts, newest first, optionally of one status (pending: waiting for Paystack’s balance or answer)',
        querystring: AdminPayoutsQuery,
        response: { 200: AdminPayoutPage, ...problems(401, 403) },
      },
      config: { auth: 'admin' },
    },
    async (req) => payouts.adminList(actorCtx(req), req.query),
  )

  app.post(
    '/v1/admin/payouts/:id/retry',
    {
      schema: {
        operationId: 'retryPayout',
        tags: ['admin'],
        summary:
          'Send a pending payout again now (same reference; Paystack is asked first), or verify a processing one now. 409 PAYOUT_NOT_RETRYABLE for a failed, paid or reversed one; 409 PAYOUT_BUSY while it is being sent',
        params: IdParams,
        body: EmptyBody,
        response: { 200: AdminPayout, ...problems(401, 403, 404, 409) },
      },
      config: { auth: 'admin' },
    },
    async (req) => payouts.adminRetry(actorCtx(req), req.params.id),
  )
}
