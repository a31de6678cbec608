import { auditFromSql } from '../audit/index.js'
import type { Db } from '../db/index.js'
import { hotQuery } from '../db/index.js'
import type { Ctx } from '../shared/index.js'
import type { PaymentRow, RefundRow } from './payments.tables.js'

/*
 * The payments feature's rows as other features read and write them, always in the
 * caller's transaction.
 */

/** Our payment reference: unique, and only characters Paystack accepts (letters, digits, - . =). */
export const newReference = (orderId: string) => `oja-${orderId.replace(/-/g, '')}-${Date.now().toString(36)}`

/** The payment of an order (an order has at most one). */
export async function paymentOf(db: Db, orderId: string): Promise<PaymentRow | undefined> {
  return db('payments').where('order_id', orderId).first()
}

/** The payments of several orders. */
export async function paymentsOf(db: Db, orderIds: string[]): Promise<PaymentRow[]> {
  return db('payments').whereIn('order_id', orderIds)
}

/** The refunds of several orders, oldest first. */
export async function refundsOf(db: Db, orderIds: string[]): Promise<RefundRow[]> {
  return db('refunds')
    .whereIn('order_id', orderIds)
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
}

/**
 * SQL over the orders row `o`: a payment of the order came late and a refund of it was
 * written (pending, sent, done or refused), because the order could no longer be honoured.
 */
export function latePaymentRefundSql(o: string): string {
  return `exists (select 1 from refunds lr where lr.order_id = ${o}.id and lr.origin = 'late_payment')`
}

export async function refundById(db: Db, refundId: string): Promise<RefundRow | undefined> {
  return db('refunds').where('id', refundId).first()
}

/** An unpaid order's payment will not be made any more (cancelled or expired checkout). */
export async function expirePayment(db: Db, orderId: string): Promise<void> {
  await db('payments')
    .where('order_id', orderId)
    .whereIn('status', ['initializing', 'pending'])
    .update({ status: 'expired', updated_at: db.fn.now() })
}

/** The columns of a payment that checkout's answer shows. */
export type NewPaymentRow = Pick<
  PaymentRow,
  'order_id' | 'reference' | 'amount' | 'currency' | 'status' | 'authorization_url' | 'paid_at'
>

/**
 * The payments feature's part of checkout's one statement: a CTE `p` that writes the
 * order's payment row (status `initializing`) when there is a reference, i.e. something to
 * pay. It uses the `:orderId` binding of the order's part; `columns` goes in the select list
 * and comes back as a JSON array of rows.
 */
export function newPaymentSql(p: { amount: number; currency: string; reference: string | undefined }) {
  const cte = `p as (
       insert into payments (order_id, provider, reference, amount, currency, status)
       select :orderId::uuid, 'paystack', x.reference, :paymentAmount, :paymentCurrency, 'initializing' from (select :reference::text as reference) x where x.reference is not null
       returning order_id, reference, amount, currency, status, authorization_url, paid_at
     )`
  const columns = `(select coalesce(jsonb_agg(to_jsonb(p)), '[]') from p) as payments`
  const bindings = { paymentAmount: p.amount, paymentCurrency: p.currency, reference: p.reference ?? null }
  return { cte, columns, bindings }
}

/**
 * Paystack accepted the checkout's payment: the buyer is sent to its authorization URL. The
 * payment's move from `initializing` to `pending` is audited in the same transaction.
 */
export async function markPaymentStarted(
  ctx: Pick<Ctx, 'db' | 'actor' | 'requestId'>,
  orderId: string,
  init: { reference: string; authorization_url: string; access_code: string },
): Promise<NewPaymentRow | undefined> {
  // The change and its audit row in one statement (atomic without a transaction of its own).
  const entry = auditFromSql(
    ctx,
    {
      action: 'payment.started',
      targetType: 'order',
      targetId: orderId,
      before: { payment: { status: 'initializing' } },
      after: { payment: { status: 'pending', reference: init.reference } },
    },
    'p',
  )
  const rows = await hotQuery<NewPaymentRow>(
    ctx.db,
    `with p as (
       update payments set status = 'pending', authorization_url = :authorizationUrl, access_code = :accessCode, updated_at = now()
       where order_id = :orderId and status = 'initializing'
       returning *
     ), a as (${entry.sql})
     select * from p`,
    {
      ...entry.bindings,
      orderId,
      authorizationUrl: init.authorization_url,
      accessCode: init.access_code,
    },
    { prepared: true },
  )
  return rows[0]
}
