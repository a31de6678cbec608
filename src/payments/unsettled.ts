import { adminsQuery } from '../accounts/index.js'
import type { Db } from '../db/index.js'
import { decodeCursor, pageOf, type Ctx } from '../shared/index.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { UnsettledKind, UnsettledPaymentRow } from './payments.tables.js'

/** What is raised: the reference, what is wrong, and both sides' amounts where known. */
export type UnsettledEntry = {
  reference: string
  orderId: string | null
  kind: UnsettledKind
  paystackAmount?: number | null
  ojaAmount?: number | null
  currency?: string | null
  detail: string
}

/** An unsettled payment as the admin list shows it. */
export function unsettledView(row: UnsettledPaymentRow) {
  return {
    id: row.id,
    reference: row.reference,
    orderId: row.order_id,
    kind: row.kind,
    paystackAmount: row.paystack_amount === null ? null : Number(row.paystack_amount),
    ojaAmount: row.oja_amount === null ? null : Number(row.oja_amount),
    currency: row.currency,
    detail: row.detail,
    firstSeenAt: row.first_seen_at.toISOString(),
    lastSeenAt: row.last_seen_at.toISOString(),
    resolvedAt: row.resolved_at ? row.resolved_at.toISOString() : null,
  }
}

/**
 * Payments Oja could not settle by itself (money Paystack holds without goods or a refund
 * in Oja, or the reverse): kept in `unsettled_payments` until Paystack and Oja agree again,
 * and raised to every admin as a `payment_unsettled` notification, once per reference and
 * kind (again only if it comes back after being resolved).
 */
export function createUnsettled(deps: PaymentsDeps) {
  const { spine, log } = deps

  async function raise(ctx: Ctx, entry: UnsettledEntry): Promise<void> {
    const values = {
      order_id: entry.orderId,
      paystack_amount: entry.paystackAmount ?? null,
      oja_amount: entry.ojaAmount ?? null,
      currency: entry.currency ?? null,
      detail: entry.detail.slice(0, 500),
    }
    await spine.transaction(ctx, async (tx) => {
      const [created] = await tx
        .db('unsettled_payments')
        .insert({ reference: entry.reference, kind: entry.kind, ...values })
        .onConflict(['reference', 'kind'])
        .ignore()
        .returning('*')
      let row = created
      let fresh = !!created
      if (!row) {
        const old = await tx
          .db('unsettled_payments')
          .where({ reference: entry.reference, kind: entry.kind })
          .forUpdate()
          .first()
        fresh = !!old?.resolved_at
        const updated = await tx
          .db('unsettled_payments')
          .where({ reference: entry.reference, kind: entry.kind })
          .update({
            ...values,
            order_id: values.order_id ?? old?.order_id ?? null,
            last_seen_at: tx.db.fn.now(),
            resolved_at: null,
          })
          .returning('*')
        row = updated[0]
      }
      if (!fresh || !row) return
      log.error(
        { reference: entry.reference, kind: entry.kind, detail: entry.detail },
        'payment unsettled; admins told',
      )
      const { id, reference, orderId, kind, paystackAmount, ojaAmount } = unsettledView(row)
      await spine.notify(tx, adminsQuery(tx.db), 'payment_unsettled', {
        unsettledId: id,
        reference,
        orderId,
        kind,
        paystackAmount,
        ojaAmount,
      })
    })
  }

  /** Paystack and Oja agree on the reference again: its open entries are resolved. */
  async function resolve(db: Db, reference: string): Promise<number> {
    return db('unsettled_payments')
      .where('reference', reference)
      .whereNull('resolved_at')
      .update({ resolved_at: db.fn.now(), last_seen_at: db.fn.now() })
  }

  /** The admin list: open entries (or resolved ones), newest first, cursor paging. */
  async function list(ctx: Ctx, q: { resolved?: boolean; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20
    const scope = q.resolved ? 'unsettled-payments:resolved' : 'unsettled-payments:open'
    const after = decodeCursor(q.cursor, 2, scope) as [string, string] | undefined
    const query = ctx
      .db('unsettled_payments')
      // The cursor keeps the timestamp's microseconds (a JavaScript Date would drop them).
      .select<(UnsettledPaymentRow & { cursor_at: string })[]>(
        '*',
        ctx.db.raw("to_json(first_seen_at) #>> '{}' as cursor_at"),
      )
    if (q.resolved) query.whereNotNull('resolved_at')
    else query.whereNull('resolved_at')
    if (after) query.whereRaw('(first_seen_at, id) < (:at::timestamptz, :id::uuid)', { at: after[0], id: after[1] })
    const rows = await query
      .orderBy([
        { column: 'first_seen_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1)
    const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], scope)
    return { items: page.items.map(unsettledView), nextCursor: page.nextCursor }
  }

  return { raise, resolve, list }
}

export type Unsettled = ReturnType<typeof createUnsettled>
