import { audit } from '../audit/index.js'
import type { Db } from '../db/index.js'
import { emitOrderStatus, lockOrder, setPaymentStatus, statusAfterRefunds, type OrderRow } from '../orders/index.js'
import type { Ctx } from '../shared/index.js'
import type { PaymentsDeps } from './payments.deps.js'
import type { PaymentRow, RefundRow } from './payments.tables.js'
import { amountOf, PaystackError, type PaystackRefund } from './paystack.client.js'

/**
 * Refunds as an outbox: a refund row is written with the change that causes it (and counted
 * against the order at once), then sent to Paystack, now and by the sweeper until it is
 * accepted or refused; refund.* webhooks move it on.
 */
export function createRefunds(deps: PaymentsDeps) {
  const { spine, gateway, log } = deps
  const refundLeaseMs = Math.max(120_000, deps.config.PAYSTACK_TIMEOUT_MS * 3)

  /** Writes a refund to send and counts it against the order at once (so refunds can never exceed what was paid). */
  async function requestRefund(
    db: Db,
    order: OrderRow,
    input: {
      amount: number
      reason: string
      origin: 'admin' | 'buyer_cancel' | 'late_payment'
      requestedBy: string | null
      status?: OrderRow['payment_status']
    },
  ): Promise<string> {
    const payment = await db('payments').where('order_id', order.id).first()
    if (!payment) throw new Error(`order ${order.id} has no payment to refund`)
    const [refund] = await db('refunds')
      .insert({
        order_id: order.id,
        payment_id: payment.id,
        amount: input.amount,
        currency: order.currency,
        reason: input.reason,
        origin: input.origin,
        requested_by: input.requestedBy,
      })
      .returning('id')
    const refunded = order.refunded_amount + input.amount
    await setPaymentStatus(db, order.id, input.status ?? statusAfterRefunds(order.total, refunded), {
      refunded_amount: refunded,
    })
    return refund!.id
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
      await setPaymentStatus(tx.db, order.id, statusAfterRefunds(order.total, refunded), { refunded_amount: refunded })
      await audit(tx, {
        action: 'refund.failed',
        targetType: 'order',
        targetId: order.id,
        before: { refundId, status: 'pending' },
        after: { refundId, status: 'failed', amount: refund.amount },
        note: message.slice(0, 300),
      })
      await emitOrderStatus(spine, tx, order.id)
      const admins = tx.db('users').where('role', 'admin').select('id as user_id')
      await spine.notify(tx, admins, 'refund_failed', {
        orderId: order.id,
        refundId,
        amount: refund.amount,
        message: message.slice(0, 300),
      })
    })
  }

  async function markRefundAccepted(ctx: Ctx, refundId: string, accepted: PaystackRefund): Promise<void> {
    await ctx.db.transaction(async (trx) => {
      const updated = await trx('refunds')
        .where('id', refundId)
        .update({
          provider_refund_id: trx.raw('coalesce(provider_refund_id, ?)', [accepted.id]),
          status: trx.raw("case when status = 'pending' then 'processing' else status end"),
          last_error: null,
          updated_at: trx.fn.now(),
        })
        .returning(['order_id', 'amount'])
      if (updated[0])
        await audit(
          { ...ctx, db: trx },
          {
            action: 'refund.submitted',
            targetType: 'order',
            targetId: updated[0].order_id,
            after: { refundId, providerRefundId: accepted.id, amount: updated[0].amount },
          },
        )
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

  async function findRefund(
    db: Db,
    payment: PaymentRow,
    providerId: number | undefined,
    amount: number,
  ): Promise<RefundRow | undefined> {
    if (providerId !== undefined) {
      const byId = await db('refunds').where({ payment_id: payment.id, provider_refund_id: providerId }).first()
      if (byId) return byId
    }
    return db('refunds')
      .where({ payment_id: payment.id, amount })
      .whereIn('status', ['pending', 'processing'])
      .modify((q) => (providerId !== undefined ? q.whereNull('provider_refund_id') : q))
      .orderBy('created_at')
      .first()
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
    const providerId = amountOf(listed.id)
    if (state === 'failed') {
      const r = await findRefund(ctx.db, payment, providerId, amount)
      if (r) await markRefundFailed(ctx, r.id, `Paystack: refund ${told}`)
      return
    }
    await spine.transaction(ctx, async (tx) => {
      const order = (await lockOrder(tx.db, payment.order_id))!
      let r = await findRefund(tx.db, payment, providerId, amount)
      if (!r) {
        // Made outside Oja (the Paystack dashboard): record it, within what is left.
        const rest = order.total - order.refunded_amount
        if (amount <= 0 || amount > rest) return
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
        r = created!
        const refunded = order.refunded_amount + amount
        await setPaymentStatus(tx.db, order.id, statusAfterRefunds(order.total, refunded), {
          refunded_amount: refunded,
        })
        await audit(tx, {
          action: 'refund.recorded',
          targetType: 'order',
          targetId: order.id,
          after: { refundId: r.id, amount, providerRefundId: providerId },
        })
      }
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
          after: { refundId: r.id, amount: r.amount },
        })
        await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] })
      } else if (r.status === 'pending') {
        await tx
          .db('refunds')
          .where('id', r.id)
          .update({
            status: 'processing',
            provider_refund_id: tx.db.raw('coalesce(provider_refund_id, ?)', [providerId ?? null]),
            updated_at: tx.db.fn.now(),
          })
      }
    })
  }

  return { requestRefund, submitRefund, applyRefundEvent }
}

export type Refunds = ReturnType<typeof createRefunds>
