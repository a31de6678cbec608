import type { UserRow } from '../accounts/index.js'
import type { CategoryRow } from '../categories/index.js'
import { honouredOrderSql, type OrderRow, type ShipmentRow } from '../orders/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { Errors } from '../shared/index.js'

const PAID = ['paid', 'partially_refunded', 'refunded']

/**
 * Marketplace figures over a date range [from, to): revenue by day (gross, refunded, net,
 * orders) by payment date, orders by payment status and shipments by status (by creation
 * date), and the top categories and sellers by paid sales. Each is one aggregate query.
 */
export async function marketplaceStats(ctx: Ctx & { actor: Actor }, q: { from?: string; to?: string; top?: number }) {
  const to = q.to ? new Date(q.to) : new Date()
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 86_400_000)
  if (!(from < to))
    throw Errors.validation('`from` must be before `to`', [{ path: '/querystring/from', message: 'must be before to' }])
  if (to.getTime() - from.getTime() > 366 * 86_400_000)
    throw Errors.validation('The range may span at most 366 days', [
      { path: '/querystring/to', message: 'range too long' },
    ])
  const top = q.top ?? 10
  const db = ctx.db
  const paidInRange = () =>
    db('orders as o').whereIn('o.payment_status', PAID).andWhere('o.paid_at', '>=', from).andWhere('o.paid_at', '<', to)
  // Sales are honoured orders: a late payment refunded sold nothing (its money still shows in revenue).
  const salesInRange = () => paidInRange().whereRaw(honouredOrderSql('o'))

  const [revenue, byPayment, byShipment, topCategories, topSellers] = await Promise.all([
    paidInRange()
      .select(db.raw("to_char(date_trunc('day', o.paid_at at time zone 'UTC'), 'YYYY-MM-DD') as day"))
      .sum({ gross: 'o.total' })
      .sum({ refunded: 'o.refunded_amount' })
      .count<{ day: string; gross: number; refunded: number; orders: number }[]>({ orders: '*' })
      .groupByRaw('1')
      .orderByRaw('1'),
    db('orders')
      .where('created_at', '>=', from)
      .andWhere('created_at', '<', to)
      .select('payment_status')
      .count<(Pick<OrderRow, 'payment_status'> & { n: number })[]>({ n: '*' })
      .groupBy('payment_status'),
    db('shipments')
      .where('created_at', '>=', from)
      .andWhere('created_at', '<', to)
      .select('status')
      .count<(Pick<ShipmentRow, 'status'> & { n: number })[]>({ n: '*' })
      .groupBy('status'),
    salesInRange()
      .join('order_items as i', 'i.order_id', 'o.id')
      .join('listings as l', 'l.id', 'i.listing_id')
      .join('categories as c', 'c.id', 'l.category_id')
      .select<(Pick<CategoryRow, 'id' | 'name'> & { revenue: number; units: number })[]>(
        'c.id',
        'c.name',
        db.raw('sum(i.unit_price * i.quantity)::bigint as revenue'),
        db.raw('sum(i.quantity)::int as units'),
      )
      .groupBy('c.id', 'c.name')
      .orderBy([{ column: 'revenue', order: 'desc' }, { column: 'c.name' }])
      .limit(top),
    salesInRange()
      .join('order_items as i', 'i.order_id', 'o.id')
      .join('users as u', 'u.id', 'i.seller_id')
      .select<(Pick<UserRow, 'id' | 'name'> & { revenue: number; orders: number })[]>(
        'u.id',
        'u.name',
        db.raw('sum(i.unit_price * i.quantity)::bigint as revenue'),
        db.raw('count(distinct o.id)::int as orders'),
      )
      .groupBy('u.id', 'u.name')
      .orderBy([{ column: 'revenue', order: 'desc' }, { column: 'u.name' }])
      .limit(top),
  ])
  return {
    from: from.toISOString(),
    to: to.toISOString(),
    currency: 'NGN',
    revenueByDay: revenue.map((r) => ({
      day: r.day,
      gross: Number(r.gross),
      refunded: Number(r.refunded),
      net: Number(r.gross) - Number(r.refunded),
      orders: Number(r.orders),
    })),
    ordersByPaymentStatus: Object.fromEntries(byPayment.map((r) => [r.payment_status, Number(r.n)])),
    shipmentsByStatus: Object.fromEntries(byShipment.map((r) => [r.status, Number(r.n)])),
    topCategories: topCategories.map((c) => ({
      categoryId: c.id,
      name: c.name,
      revenue: Number(c.revenue),
      units: c.units,
    })),
    topSellers: topSellers.map((s) => ({ sellerId: s.id, name: s.name, revenue: Number(s.revenue), orders: s.orders })),
  }
}
