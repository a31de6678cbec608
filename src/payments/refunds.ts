import { adminsQuery } from '../accounts/index.js'
import { audit } from '../audit/index.js'
import type { Db } from '../db/index.js'
import {
  emitOrderStatus,
  lockOrder,
  setPaymentStatus,
  statusAfterRefunds,
  type AuditCtx,
  type OrderRow,
} from '../orders/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { PaymentRow, RefundRow } from './payments.tables.js'
import { amountOf, PaystackError, type PaystackRefund } from './paystack.client.js'

/** The merchant_note Oja sends with each refund: `oja-refund:<refund id>`. */
const OUR_MARKER = /^oja-refund:([0-9a-f-]{36})$/

/**
 * Refunds as an outbox: a refund row is written with the change that causes it (and counted
 * against the order at once), then sent to Paystack, now and by the sweeper until it is
 * accepted or refused; refund.* webhooks move it on.
 */
export function createRefunds(deps: PaymentsDeps) {
  const { spine, gateway, log } = deps
  const refundLeaseMs = Math.max(120_000, deps.config.PAYSTACK_TIMEOUT_MS * 3)

  /**
   * Posts what changed in the order's refunds to the ledger (src/ledger: owed to the buyer,
   * taken back from the sale, settled by Paystack). Every transaction here that changes a
   * refund's amount or status ends with it; the order is locked.
   */
  async function syncLedger(tx: { db: Db }, order: Pick<OrderRow, 'id' | 'total' | 'currency'>): Promise<void> {
    const rows = await tx
      .db('refunds')
      .where('order_id', order.id)
      .orderBy('created_at')
      .select('id', 'amount', 'status', 'shipment_id')
    await deps.ledger.refundsChanged(
      tx,
      order,
      rows.map((r) => ({ id: r.id, amount: r.amount, status: r.status, shipmentId: r.shipment_id })),
    )
  }

  /**
   * Writes a refund to send and counts it against the order at once (so refunds can never
   * exceed what was paid); the order's new payment status is audited as `action`.
   */
  async function requestRefund(
    tx: AuditCtx,
    order: OrderRow,
    input: {
      amount: number
      reason: string
      origin: 'admin' | 'buyer_cancel' | 'late_payment' | 'dispute'
      requestedBy: string | null
      /** A refund for one shipment (a dispute's): the ledger takes it from that shipment. */
      shipmentId?: string
      status?: OrderRow['payment_status']
      /** The audit action of the change (`admin.order_refunded`, `order.cancelled`, ...). */
      action: string
      after?: Record<string, unknown>
      note?: string
    },
  ): Promise<string> {
    const payment = await tx.db('payments').where('order_id', order.id).first()
    if (!payment) throw new Error(`order ${order.id} has no payment to refund`)
    const [refund] = await tx
      .db('refunds')
      .insert({
        order_id: order.id,
        payment_id: payment.id,
        amount: input.amount,
        currency: order.currency,
        reason: input.reason,
        origin: input.origin,
        requested_by: input.requestedBy,
        shipment_id: input.shipmentId ?? null,
      })
      .returning('id')
    const refunded = order.refunded_amount + input.amount
    await setPaymentStatus(tx, order, input.status ?? statusAfterRefunds(order.total, refunded), {
      action: input.action,
      refunded_amount: refunded,
      after: { refundId: refund!.id, amount: input.amount, origin: input.origin, ...input.after },
      ...(input.note !== undefined ? { note: input.note } : {}),
    })
    await syncLedger(tx, order)
    return refund!.id
  }

  /**
   * Makes an order's refunds fit what was paid once Paystack has refunded more of it than Oja
   * counted (a refund made on Paystack's dashboard while one of ours waited to be sent):
   * `refunded` is the amount counted with Paystack's news. Refunds still queued here, never
   * accepted by Paystack, are shrunk to what is left, newest first, or cancelled when nothing
   * is; each with an audit row and a `refund_adjusted` notification to admins. Returns the
   * refunded amount after; throws (to retry later) when even that cannot make it fit.
   */
  async function fitQueuedRefunds(tx: TxCtx, order: OrderRow, refunded: number, cause: string): Promise<number> {
    let over = refunded - order.total
    if (over <= 0) return refunded
    const queued = await tx
      .db('refunds')
      .where({ order_id: order.id, status: 'pending' })
      .whereNull('provider_refund_id')
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .forUpdate()
    for (const q of queued) {
      if (over <= 0) break
      const cut = Math.min(over, q.amount)
      const left = q.amount - cut
      const status = left === 0 ? 'cancelled' : 'pending'
      const note = `${cause}: ${left === 0 ? 'nothing was left to refund' : `only ${left} was left to refund`}`
      await tx
        .db('refunds')
        .where('id', q.id)
        .update({
          // A cancelled refund keeps the amount it was asked for; it no longer counts.
          ...(left > 0 ? { amount: left } : {}),
          status,
          last_error: note.slice(0, 300),
          updated_at: tx.db.fn.now(),
        })
      await audit(tx, {
        action: left === 0 ? 'refund.cancelled' : 'refund.reduced',
        targetType: 'order',
        targetId: order.id,
        before: { refundId: q.id, status: 'pending', amount: q.amount },
        after: { refundId: q.id, status, amount: left },
        note: note.slice(0, 300),
      })
      await spine.notify(tx, adminsQuery(tx.db), 'refund_adjusted', {
        orderId: order.id,
        refundId: q.id,
        previousAmount: q.amount,
        amount: left,
        status,
        message: note.slice(0, 300),
      })
      over -= cut
      refunded -= cut
    }
    if (over > 0)
      throw new Error(
        `order ${order.id}: Paystack has refunded ${over} more than Oja can account for; retried later, check it with Paystack`,
      )
    return refunded
  }

  async function markRefundFailed(ctx: Ctx, refundId: string, message: string): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const r = await tx.db('refunds').where('id', refundId).first('order_id')
      if (!r) return
      const order = (await lockOrder(tx.db, r.order_id))!
      const [refund] = await tx
        .db('refunds')
        .where('id', refundId)
        .whereIn('status', ['pending', 'processing'])
        .update({ status: 'failed', last_error: message.slice(0, 300), updated_at: tx.db.fn.now() })
        .returning('*')
      if (!refund) return
      const refunded = Math.max(0, order.refunded_amount - refund.amount)
      await setPaymentStatus(tx, order, statusAfterRefunds(order.total, refunded), {
        action: 'refund.failed',
        refunded_amount: refunded,
        after: { refundId, refundStatus: 'failed', amount: refund.amount },
        note: message,
      })
      await syncLedger(tx, order)
      await emitOrderStatus(spine, tx, order.id)
      await spine.notify(tx, adminsQuery(tx.db), 'refund_failed', {
        orderId: order.id,
        refundId,
        amount: refund.amount,
        message: message.slice(0, 300),
      })
    })
  }

  /**
   * Paystack holds this refund of ours (it accepted it, or lists it): it is `processing`. If
   * the row was reduced or cancelled here while it was on its way (fitQueuedRefunds) and
   * Paystack took another amount, Paystack's amount stands and the order's count follows it.
   * In the caller's transaction, with the order locked.
   */
  async function adoptAccepted(
    tx: TxCtx,
    order: OrderRow,
    refund: RefundRow,
    providerId: number | undefined,
    amount: number,
  ): Promise<void> {
    const counted = refund.status === 'cancelled' || refund.status === 'failed' ? 0 : refund.amount
    const corrected = (refund.status === 'pending' || refund.status === 'cancelled') && amount !== counted
    await tx
      .db('refunds')
      .where('id', refund.id)
      .update({
        provider_refund_id: tx.db.raw('coalesce(provider_refund_id, ?)', [providerId ?? null]),
        status: tx.db.raw("case when status in ('pending', 'cancelled') then 'processing' else status end"),
        ...(corrected ? { amount } : {}),
        last_error: null,
        updated_at: tx.db.fn.now(),
      })
    if (!corrected) return
    const refunded = await fitQueuedRefunds(
      tx,
      order,
      order.refunded_amount - counted + amount,
      `Paystack accepted refund ${refund.id} for ${amount}`,
    )
    await setPaymentStatus(tx, order, statusAfterRefunds(order.total, refunded), {
      action: 'refund.corrected',
      refunded_amount: refunded,
      after: { refundId: refund.id, amount, previousAmount: counted },
      note: 'Paystack holds the amount sent before the refund was adjusted here',
    })
    await emitOrderStatus(spine, tx, order.id)
  }

  /** Paystack accepted a refund we sent. */
  async function markRefundAccepted(ctx: Ctx, refundId: string, accepted: PaystackRefund): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const row = await tx.db('refunds').where('id', refundId).first('order_id')
      if (!row) return
      const order = (await lockOrder(tx.db, row.order_id))!
      const refund = await tx.db('refunds').where('id', refundId).forUpdate().first()
      if (!refund) return
      const amount = amountOf(accepted.amount) ?? refund.amount
      await adoptAccepted(tx, order, refund, amountOf(accepted.id), amount)
      await syncLedger(tx, order)
      await audit(tx, {
        action: 'refund.submitted',
        targetType: 'order',
        targetId: order.id,
        after: { refundId, providerRefundId: accepted.id, amount },
      })
    })
  }

  /**
   * Sends one pending refund to Paystack. A lease (next_attempt_at) keeps two senders from
   * sending it twice; before a retry, Paystack's refunds of the transaction are searched
   * for ours (merchant_note), so an answer lost to a timeout does not refund twice.
   */
  async function submitRefund(ctx: Ctx, refundId: string): Promise<'processing' | 'pending' | 'failed' | 'skipped'> {
    const [r] = await ctx
      .db('refunds')
      .where({ id: refundId, status: 'pending' })
      .where('next_attempt_at', '<=', ctx.db.fn.now())
      .update({
        attempts: ctx.db.raw('attempts + 1'),
        next_attempt_at: ctx.db.raw("now() + (? * interval '1 millisecond')", [refundLeaseMs]),
        updated_at: ctx.db.fn.now(),
      })
      .returning('*')
    if (!r) return 'skipped'
    const payment = await ctx.db('payments').where('id', r.payment_id).first()
    if (!payment) return 'skipped'
    const marker = `oja-refund:${r.id}`
    try {
      let accepted: PaystackRefund | undefined
      if (r.attempts > 1 && payment.provider_transaction_id) {
        const existing = await gateway.listRefunds(payment.provider_transaction_id).catch((err: unknown) => {
          throw err instanceof PaystackError ? new PaystackError('unavailable', err.message, err.httpStatus) : err
        })
        accepted = existing.find((x) => x.merchant_note === marker)
      }
      accepted ??= await gateway.refund({
        transaction: payment.reference,
        amount: r.amount,
        currency: r.currency as 'NGN',
        merchant_note: marker,
        customer_note: r.reason.slice(0, 200),
      })
      await markRefundAccepted(ctx, r.id, accepted)
      return 'processing'
    } catch (err) {
      const message = String((err as Error).message)
      if (err instanceof PaystackError && err.kind === 'rejected') {
        if (await adjustedWhileSending(ctx, r, payment)) {
          // Paystack refused the amount sent; what is left of the refund now is sent next.
          log.warn({ refundId, err: message }, 'refund adjusted while it was sent; sending what is left')
          await ctx
            .db('refunds')
            .where({ id: r.id, status: 'pending' })
            .update({
              next_attempt_at: ctx.db.fn.now(),
              last_error: message.slice(0, 300),
              updated_at: ctx.db.fn.now(),
            })
          return 'pending'
        }
        log.error({ refundId, err: message }, 'Paystack refused a refund')
        await markRefundFailed(ctx, r.id, message)
        return 'failed'
      }
      const backoffMs = Math.min(60_000 * 2 ** Math.max(0, r.attempts - 1), 3_600_000)
      await ctx
        .db('refunds')
        .where({ id: r.id, status: 'pending' })
        .update({
          next_attempt_at: ctx.db.raw("now() + (? * interval '1 millisecond')", [backoffMs]),
          last_error: message.slice(0, 300),
          updated_at: ctx.db.fn.now(),
        })
      log.warn({ refundId, err: message }, 'refund not sent; will retry')
      return 'pending'
    }
  }

  /**
   * Paystack's own word on the refund a webhook speaks of, from the refunds it lists for the
   * transaction (by the webhook's id, else by amount). A signed webhook proves who sent it;
   * this also proves the refund exists, for that amount, in that state.
   */
  async function listedRefund(
    payment: PaymentRow & { provider_transaction_id: number },
    claimedId: number | undefined,
    amount: number,
    claimed: string,
  ): Promise<PaystackRefund | undefined> {
    const listed = await gateway.listRefunds(payment.provider_transaction_id)
    const candidates = listed.filter((x) =>
      claimedId !== undefined ? amountOf(x.id) === claimedId : amountOf(x.amount) === amount,
    )
    return candidates.find((x) => String(x.status) === claimed) ?? candidates[0]
  }

  /**
   * Our refund row for a refund Paystack lists: by Paystack's id, else by the marker we send
   * as its merchant_note. A listed refund with another note (or none) is not one Oja sent; only
   * when Paystack shows no note field at all is one of ours still waiting for its answer
   * matched by amount.
   */
  async function ourRefund(db: Db, payment: PaymentRow, listed: PaystackRefund): Promise<RefundRow | undefined> {
    const providerId = amountOf(listed.id)
    if (providerId !== undefined) {
      const byId = await db('refunds').where({ payment_id: payment.id, provider_refund_id: providerId }).first()
      if (byId) return byId
    }
    const note: unknown = (listed as { merchant_note?: unknown }).merchant_note
    const marked = typeof note === 'string' ? OUR_MARKER.exec(note)?.[1] : undefined
    if (marked) return db('refunds').where({ id: marked, payment_id: payment.id }).first()
    if (note !== undefined && providerId !== undefined) return undefined
    return db('refunds')
      .where({ payment_id: payment.id, amount: amountOf(listed.amount) ?? -1 })
      .whereIn('status', ['pending', 'processing'])
      .modify((q) => (providerId !== undefined ? q.whereNull('provider_refund_id') : q))
      .orderBy('created_at')
      .first()
  }

  /**
   * Records a refund Paystack made that Oja did not send (on Paystack's dashboard): whatever
   * Paystack confirms is counted. If that leaves less to refund than Oja's queued refunds ask
   * for, those are shrunk or cancelled (fitQueuedRefunds).
   */
  async function recordProviderRefund(
    tx: TxCtx,
    order: OrderRow,
    payment: PaymentRow,
    amount: number,
    providerId: number | undefined,
  ): Promise<RefundRow> {
    const [created] = await tx
      .db('refunds')
      .insert({
        order_id: order.id,
        payment_id: payment.id,
        amount,
        currency: order.currency,
        reason: 'Refunded on Paystack',
        origin: 'provider',
        status: 'processing',
        provider_refund_id: providerId ?? null,
      })
      .returning('*')
    const refunded = await fitQueuedRefunds(
      tx,
      order,
      order.refunded_amount + amount,
      `Paystack refunded ${amount} outside Oja (refund ${providerId ?? 'without id'})`,
    )
    await setPaymentStatus(tx, order, statusAfterRefunds(order.total, refunded), {
      action: 'refund.recorded',
      refunded_amount: refunded,
      after: { refundId: created!.id, amount, providerRefundId: providerId },
    })
    await emitOrderStatus(spine, tx, order.id)
    return created!
  }

  /**
   * Applies what Paystack lists about one refund of a payment: failed → our refund no longer
   * counts; pending or processing → ours is on its way; processed → done. A refund Oja did not
   * send is recorded first.
   */
  async function applyListedRefund(ctx: Ctx, payment: PaymentRow, listed: PaystackRefund): Promise<void> {
    const told = String(listed.status)
    const state = told === 'processed' ? 'processed' : told === 'failed' ? 'failed' : 'processing'
    const providerId = amountOf(listed.id)
    const amount = amountOf(listed.amount)
    if (amount === undefined || amount <= 0) return
    if (state === 'failed') {
      const r = await ourRefund(ctx.db, payment, listed)
      if (r) await markRefundFailed(ctx, r.id, `Paystack: refund ${told}`)
      return
    }
    await spine.transaction(ctx, async (tx) => {
      const order = (await lockOrder(tx.db, payment.order_id))!
      const r =
        (await ourRefund(tx.db, payment, listed)) ??
        (await recordProviderRefund(tx, order, payment, amount, providerId))
      // Ours, still pending (its answer lost) or cancelled here meanwhile: Paystack holds it.
      if (r.status === 'pending' || r.status === 'cancelled') await adoptAccepted(tx, order, r, providerId, amount)
      if (state === 'processed' && r.status !== 'processed') {
        await tx
          .db('refunds')
          .where('id', r.id)
          .update({
            status: 'processed',
            processed_at: tx.db.fn.now(),
            provider_refund_id: tx.db.raw('coalesce(provider_refund_id, ?)', [providerId ?? null]),
            updated_at: tx.db.fn.now(),
          })
        await audit(tx, {
          action: 'refund.processed',
          targetType: 'order',
          targetId: order.id,
          after: { refundId: r.id, amount },
        })
        await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] })
      }
      await syncLedger(tx, order)
    })
  }

  /**
   * Paystack refused a refund we sent. Before calling it failed: refunds Paystack holds that
   * Oja has not recorded yet (made on its dashboard, their webhook not yet processed) are
   * recorded, which may shrink or cancel this one. True when this refund is no longer the one
   * that was sent (then what is left of it is sent again, not failed).
   */
  async function adjustedWhileSending(ctx: Ctx, sent: RefundRow, payment: PaymentRow): Promise<boolean> {
    if (payment.provider_transaction_id !== null) {
      const listed = await gateway.listRefunds(payment.provider_transaction_id).catch(() => [] as PaystackRefund[])
      for (const x of listed) {
        if (String(x.status) === 'failed' || (await ourRefund(ctx.db, payment, x))) continue
        const note: unknown = (x as { merchant_note?: unknown }).merchant_note
        if (typeof note === 'string' && OUR_MARKER.test(note)) continue
        try {
          await applyListedRefund(ctx, payment, x)
        } catch (err) {
          log.warn(
            { refundId: sent.id, listed: x.id, err: (err as Error).message },
            'could not record a Paystack refund',
          )
        }
      }
    }
    const now = await ctx.db('refunds').where('id', sent.id).first('amount', 'status')
    return !!now && (now.amount !== sent.amount || now.status !== 'pending')
  }

  /**
   * refund.* webhooks: moves our refund along; a refund made on Paystack's dashboard is
   * recorded too. The state applied is the one Paystack lists, not the webhook's claim: a
   * refund Paystack lists with another amount or currency changes nothing; one it does not
   * list yet, or an outcome it does not show yet, is retried later.
   */
  async function applyRefundEvent(ctx: Ctx, event: string, data: Record<string, unknown>): Promise<void> {
    const reference = typeof data.transaction_reference === 'string' ? data.transaction_reference : undefined
    const amount = amountOf(data.amount)
    const claimedId = amountOf(data.id)
    if (!reference || amount === undefined) return
    const payment = await ctx.db('payments').where('reference', reference).first()
    if (!payment) return
    const claimed = event.slice('refund.'.length)
    if (!['pending', 'processing', 'processed', 'failed'].includes(claimed)) return
    if (payment.provider_transaction_id === null) {
      // Never confirmed as paid, so nothing of it can have been refunded.
      log.warn({ reference, event }, 'refund webhook for a payment that was never confirmed; ignored')
      return
    }
    const listed = await listedRefund(
      { ...payment, provider_transaction_id: payment.provider_transaction_id },
      claimedId,
      amount,
      claimed,
    )
    // Not listed (yet: Paystack's list may lag its webhook): retried by the sweeper rather
    // than dropped, since a later delivery of the same event would be a duplicate.
    if (!listed)
      throw new Error(`Paystack lists no refund ${claimedId ?? `of ${amount}`} for ${reference} yet; retried later`)
    if (amountOf(listed.amount) !== amount || (listed.currency && listed.currency !== payment.currency)) {
      log.warn(
        { reference, event, claimedId, amount, listedAmount: listed.amount },
        'refund webhook contradicts Paystack; ignored',
      )
      return
    }
    const told = String(listed.status)
    const state = told === 'processed' ? 'processed' : told === 'failed' ? 'failed' : 'processing'
    if ((claimed === 'processed' || claimed === 'failed') && state !== claimed) {
      throw new Error(`Paystack lists refund ${String(listed.id)} as ${told}, not ${claimed} yet; retried later`)
    }
    await applyListedRefund(ctx, payment, listed)
  }

  return { requestRefund, submitRefund, applyRefundEvent }
}

export type Refunds = ReturnType<typeof createRefunds>
