/**
 * The money and stock check a test runs when it is done: Oja's rows (read with SQL) against
 * the fake Paystack's own records. It returns the problems it found, one sentence each, so
 * a test asserts `t.same(await reconcile(app, paystack), [])`.
 *
 * - Per order: captured − refunded in Oja equals captured − refunded on Paystack for its
 *   reference (a checkout still inside its window may hold money not confirmed yet); `refunded_amount` equals its refunds that did not fail; the payment status
 *   agrees with the money (paid states have a successful payment; pending, failed and
 *   expired orders hold none); and every Paystack success belongs to an order.
 * - Per listing: sold ≤ quantity, and sold + live reservations ≤ quantity.
 * - Ledger: app.ledger.check (src/ledger/check.ts): journals sum to zero, balances equal their
 *   entries, every capture and refund agrees with its row (and with Paystack's lists).
 * - Audit: the last audit row of an order that records a payment status names the order's
 *   current status (every change of it is audited), a payment that reached `pending` has its
 *   `payment.started` row, every successful payment its `payment.paid` or
 *   `payment.late_refund` row, and every processed refund its `refund.processed` row.
 */
import type { FakePaystack } from '../fakes/paystack.js'
import type { TestApp } from './app.js'

type OrderMoney = {
  id: string
  payment_status: string
  in_flight: boolean
  total: string
  refunded_amount: string
  reference: string | null
  payment_state: string | null
  payment_amount: string | null
}
type RefundLine = { id: string; order_id: string; amount: string; status: string; origin: string }
type AuditLine = { action: string; target_id: string; after: { paymentStatus?: string; refundId?: string } | null }

const PAID = ['paid', 'partially_refunded', 'refunded']

export async function reconcile(app: TestApp, paystack: FakePaystack): Promise<string[]> {
  const problems: string[] = []
  const orders: OrderMoney[] = await app
    .db('orders as o')
    .leftJoin('payments as p', 'p.order_id', 'o.id')
    .select(
      'o.id',
      'o.payment_status',
      app.db.raw("o.payment_status = 'pending' and o.expires_at > now() as in_flight"),
      'o.total',
      'o.refunded_amount',
      'p.reference',
      'p.status as payment_state',
      'p.amount as payment_amount',
    )
  const refunds: RefundLine[] = await app.db('refunds').select('id', 'order_id', 'amount', 'status', 'origin')
  const audit: AuditLine[] = await app
    .db('audit_log')
    .where('target_type', 'order')
    .orderBy('position')
    .select('action', 'target_id', 'after')

  for (const o of orders) {
    const ours = refunds.filter((r) => r.order_id === o.id)
    const counted = ours
      .filter((r) => r.status !== 'failed' && r.status !== 'cancelled')
      .reduce((sum, r) => sum + Number(r.amount), 0)
    if (counted !== Number(o.refunded_amount))
      problems.push(`order ${o.id}: refunded_amount is ${o.refunded_amount} but its refunds count ${counted}`)
    if (!o.reference) {
      if (Number(o.total) !== 0) problems.push(`order ${o.id}: a total of ${o.total} and no payment`)
      continue
    }
    const tx = paystack.transactions.get(o.reference)
    const theirCaptured = tx?.status === 'success' ? tx.amount : 0
    const theirRefunded = paystack.refunds
      .filter((r) => r.transaction.reference === o.reference && r.status !== 'failed')
      .reduce((sum, r) => sum + r.amount, 0)
    const ourCaptured = o.payment_state === 'success' ? Number(o.payment_amount) : 0
    // A checkout still inside its window may hold money Oja has not confirmed yet (its
    // webhook was refused, say): in flight, not stranded. Once the window closes it counts.
    if (o.in_flight && ourCaptured === 0) continue
    if (ourCaptured - counted !== theirCaptured - theirRefunded)
      problems.push(
        `order ${o.id} (${o.payment_status}): Oja holds ${ourCaptured - counted} (captured ${ourCaptured} − refunded ${counted}), Paystack holds ${theirCaptured - theirRefunded} (captured ${theirCaptured} − refunded ${theirRefunded})`,
      )
    if (PAID.includes(o.payment_status) && o.payment_state !== 'success')
      problems.push(`order ${o.id} is ${o.payment_status} but its payment is ${o.payment_state}`)
    if (!PAID.includes(o.payment_status) && o.payment_state === 'success')
      problems.push(`order ${o.id} is ${o.payment_status} although its payment was taken`)
  }
  const known = new Set(orders.map((o) => o.reference))
  for (const tx of paystack.transactions.values())
    if (tx.status === 'success' && !known.has(tx.reference))
      problems.push(`Paystack took ${tx.amount} for ${tx.reference}, which no order has`)

  const listings: { id: string; quantity: number; sold_quantity: number; held: string }[] = await app
    .db('listings as l')
    .select(
      'l.id',
      'l.quantity',
      'l.sold_quantity',
      app.db.raw(
        '(select coalesce(sum(r.quantity), 0) from reservations r where r.listing_id = l.id and r.released_at is null and r.converted_at is null and r.expires_at > now()) as held',
      ),
    )
  for (const l of listings) {
    if (l.sold_quantity < 0 || l.sold_quantity > l.quantity)
      problems.push(`listing ${l.id}: ${l.sold_quantity} sold of ${l.quantity}`)
    else if (l.sold_quantity + Number(l.held) > l.quantity)
      problems.push(`listing ${l.id}: ${l.sold_quantity} sold and ${l.held} reserved of ${l.quantity}`)
  }

  for (const o of orders) {
    const trail = audit.filter((a) => a.target_id === o.id)
    const ours = refunds.filter((r) => r.order_id === o.id)
    if (o.payment_status !== 'pending') {
      const last = trail.filter((a) => typeof a.after?.paymentStatus === 'string').at(-1)
      if (last?.after?.paymentStatus !== o.payment_status)
        problems.push(
          `order ${o.id} is ${o.payment_status} but its audit trail ends at ${last ? `${last.action} → ${last.after?.paymentStatus}` : 'nothing'}`,
        )
    }
    if (o.payment_state === 'pending' && !trail.some((a) => a.action === 'payment.started'))
      problems.push(`order ${o.id}: its payment is pending with no payment.started audit row`)
    if (
      o.payment_state === 'success' &&
      !trail.some((a) => a.action === 'payment.paid' || a.action === 'payment.late_refund')
    )
      problems.push(`order ${o.id}: its payment succeeded with no payment.paid or payment.late_refund audit row`)
    for (const r of ours.filter((x) => x.status === 'processed'))
      if (!trail.some((a) => a.action === 'refund.processed' && a.after?.refundId === r.id))
        problems.push(`refund ${r.id} of order ${o.id} is processed with no refund.processed audit row`)
  }
  // The ledger against itself, Oja's rows and (through the parts features add) Paystack's lists.
  for (const m of await app.ledger.check({ db: app.db, log: app.log }))
    problems.push(`ledger ${m.kind} ${m.ref}: ${m.detail}`)
  return problems
}
