import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import { actorCtx } from '../http/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, Id, OrNull, PageQuery, pageOf, problems, StrictObject } from '../shared/index.js'
import { Order, PaymentStatus } from './orders.schemas.js'
import type { OrderRow } from './orders.tables.js'
import { orderViews } from './orders.views.js'

/** What an admin may look orders up by; every filter given must hold. */
export const AdminOrdersQuery = StrictObject({
  reference: Type.Optional(
    Type.String({ minLength: 1, maxLength: 100, description: "The order's Paystack payment reference, exactly" }),
  ),
  buyerId: Type.Optional(Id),
  sellerId: Type.Optional({ ...Id, description: 'Orders with a shipment from this seller' }),
  paymentStatus: Type.Optional(PaymentStatus),
  ...PageQuery,
})
type AdminOrdersQuery = {
  reference?: string
  buyerId?: string
  sellerId?: string
  paymentStatus?: string
  limit?: number
  cursor?: string
}

const EXAMPLE_ORDER = {
  id: '0b6a4a3e-7a55-4c38-9a49-3f4b0f0c2d11',
  buyerId: '5d1c9c1e-2f0a-4b8e-8d7e-6f3f6a1b2c3d',
  paymentStatus: 'partially_refunded',
  subtotal: 2500000,
  discount: 0,
  total: 2500000,
  refundedAmount: 500000,
  currency: 'NGN',
  coupon: null,
  shippingAddress: {
    fullName: 'Ada Buyer',
    phone: '+2348012345678',
    line1: '12 Allen Avenue',
    line2: null,
    city: 'Ikeja',
    state: 'Lagos',
    country: 'NG',
    postalCode: null,
  },
  items: [],
  shipments: [],
  payment: {
    provider: 'paystack',
    reference: 'oja_8f2d0c1b9a',
    amount: 2500000,
    currency: 'NGN',
    status: 'success',
    authorizationUrl: null,
    paidAt: '2026-12-01T10:02:00.000Z',
  },
  refunds: [],
  expiresAt: null,
  paidAt: '2026-12-01T10:02:00.000Z',
  cancelledAt: null,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-02T09:00:00.000Z',
}

/** A page of orders as admins see them (whole orders: lines, shipments with history, payment, refunds). */
export const AdminOrderPage = Type.Object(
  { items: Type.Array(Order), nextCursor: OrNull(Type.String()) },
  { title: 'AdminOrderPage', examples: [{ items: [EXAMPLE_ORDER], nextCursor: null }] },
)

/**
 * Orders for admins, newest first: by Paystack reference (what a customer quotes on the
 * phone), buyer, seller or payment status; keyset paging on (created_at, id).
 */
export async function searchOrders(ctx: Ctx & { actor: Actor }, q: AdminOrdersQuery) {
  const limit = q.limit ?? 20
  const after = decodeCursor(q.cursor, 2, 'admin-orders') as [string, string] | undefined
  const db = ctx.db
  const query = db('orders as o')
  if (q.reference)
    query.whereExists(db('payments as p').whereRaw('p.order_id = o.id').where('p.reference', q.reference))
  if (q.buyerId) query.where('o.buyer_id', q.buyerId)
  if (q.sellerId) query.whereExists(db('shipments as s').whereRaw('s.order_id = o.id').where('s.seller_id', q.sellerId))
  if (q.paymentStatus) query.where('o.payment_status', q.paymentStatus)
  if (after) query.whereRaw('(o.created_at, o.id) < (?::timestamptz, ?::uuid)', after)
  const rows = await query
    .orderBy([
      { column: 'o.created_at', order: 'desc' },
      { column: 'o.id', order: 'desc' },
    ])
    .limit(limit + 1)
    .select<(OrderRow & { cursor_at: string })[]>('o.*', db.raw("to_json(o.created_at) #>> '{}' as cursor_at"))
  const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'admin-orders')
  return {
    items: await orderViews(db, page.items, { userId: ctx.actor.id, role: ctx.actor.role }),
    nextCursor: page.nextCursor,
  }
}

/** GET /v1/admin/orders: the console's order look-up (an id goes to GET /v1/orders/:id). */
export const adminOrderSearchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/v1/admin/orders',
    {
      schema: {
        operationId: 'listAdminOrders',
        tags: ['admin'],
        summary: 'Find orders by Paystack reference, buyer, seller or payment status, newest first',
        querystring: AdminOrdersQuery,
        response: { 200: AdminOrderPage, ...problems(401, 403) },
      },
      config: { auth: 'admin' },
    },
    async (req) => searchOrders(actorCtx(req), req.query),
  )
}
