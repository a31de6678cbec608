import { adminsQuery } from '../accounts/index.js'
import { audit } from '../audit/index.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import type { NotificationDataOf } from '../notifications/index.js'
import { grossOfRefunded, mulDivRound, type Ledger } from '../ledger/index.js'
import { emitOrderStatus, lockOrder, PAID_STATES, type OrderRow } from '../orders/index.js'
import { paymentOf, PaymentErrors, refundById, type PaymentsService, type RefundRow } from '../payments/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { decodeCursor, Errors, pageOf } from '../shared/index.js'
import { DisputeErrors } from './disputes.errors.js'
import type {
  Dispute,
  DisputeMessage,
  DisputeWithMessages,
  OpenDisputeBody,
  ResolveDisputeBody,
} from './disputes.schemas.js'
import type { DisputeMessageRow, DisputeRole, DisputeRow, DisputeStatus } from './disputes.tables.js'

type ActorCtx = Ctx & { actor: Actor }

/** What the disputes service needs: the spine, the ledger (hold, release) and payments (refunds). */
export type DisputesDeps = { spine: EventSpine; ledger: Ledger; payments: PaymentsService }

/** A dispute row as the views read it: with its refund's status and a full-precision cursor time. */
type DisputeViewRow = DisputeRow & { refund_status: RefundRow['status'] | null; cursor_at: string }

type ListQuery = { status?: DisputeStatus; limit?: number; cursor?: string }

function disputeView(r: DisputeViewRow): Dispute {
  return {
    id: r.id,
    shipmentId: r.shipment_id,
    orderId: r.order_id,
    buyerId: r.buyer_id,
    sellerId: r.seller_id,
    reason: r.reason,
    detail: r.detail,
    status: r.status,
    outcome: r.outcome,
    refundAmount: r.refund_amount,
    currency: 'NGN',
    refundId: r.refund_id,
    refundStatus: r.refund_status,
    resolutionNote: r.resolution_note,
    createdAt: r.created_at.toISOString(),
    resolvedAt: r.resolved_at ? r.resolved_at.toISOString() : null,
  }
}

function messageView(m: DisputeMessageRow): DisputeMessage {
  return {
    id: m.id,
    disputeId: m.dispute_id,
    authorId: m.author_id,
    authorRole: m.author_role,
    body: m.body,
    createdAt: m.created_at.toISOString(),
  }
}

/** Disputes with their refund's status, as every read selects them. */
function disputesQuery(db: Db) {
  return db('disputes as d')
    .leftJoin('refunds as r', 'r.id', 'd.refund_id')
    .select<DisputeViewRow[]>('d.*', 'r.status as refund_status', db.raw("to_json(d.created_at) #>> '{}' as cursor_at"))
}

/** The caller's part in a dispute: its buyer, its seller, or an admin; none for anyone else. */
function roleIn(d: Pick<DisputeRow, 'buyer_id' | 'seller_id'>, actor: Actor): DisputeRole | undefined {
  if (d.buyer_id === actor.id) return 'buyer'
  if (d.seller_id === actor.id) return 'seller'
  if (actor.role === 'admin') return 'admin'
  return undefined
}

/** Postgres' unique violation of the one-open-dispute-per-shipment index. */
function isOpenDisputeConflict(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    'code' in err &&
    err.code === '23505' &&
    'constraint' in err &&
    err.constraint === 'disputes_one_open'
  )
}

/**
 * Disputes over a shipment's money: the buyer opens one before the money is released (it
 * goes on hold), the buyer, the seller and admins talk in its thread, and an admin resolves
 * it (release to the seller, refund to the buyer through Paystack, or split).
 */
export function createDisputesService(deps: DisputesDeps) {
  const { spine, ledger, payments } = deps

  /**
   * Tells users of a dispute's news (`dispute` `{disputeId,status,...}`), in the caller's
   * transaction: the given parties and, when asked, every admin; never the one who acted.
   */
  async function tell(
    tx: TxCtx,
    input: { parties: string[]; admins: string[]; actorId: string; data: NotificationDataOf<'dispute'> },
  ): Promise<void> {
    const to = [...new Set([...input.parties, ...input.admins])].filter((id) => id !== input.actorId)
    await spine.notify(tx, to, 'dispute', input.data)
  }

  async function adminIds(db: Db): Promise<string[]> {
    return (await adminsQuery(db)).map((r) => r.user_id)
  }

  /**
   * What of a shipment the buyer paid for and can still get back, in kobo: the order paid
   * `total` for lines worth the sum of its shipments' gross (a coupon paid the rest), so the
   * shipment's paid share of what is left of it is `round_half_up((gross − refunded gross) ×
   * total / Σ gross)`, never more than what is left of the order's payment. On a coupon
   * order that amount, turned back into lines by the ledger (grossOfRefunded), can stand for
   * a kobo or two more than the shipment has left, which the ledger would take from the
   * order's other shipments: it is lowered until it stands for no more than this one's.
   */
  async function refundableOf(db: Db, order: OrderRow, shipmentId: string): Promise<number> {
    const money = await ledger.escrowOfOrder(db, order.id)
    const m = money.find((x) => x.shipment_id === shipmentId)
    const gross = money.reduce((s, x) => s + x.gross, 0)
    if (!m || gross <= 0) return 0
    const left = m.gross - m.refunded_gross
    const rest = Math.max(0, order.total - order.refunded_amount)
    let amount = Math.min(rest, mulDivRound(left, order.total, gross))
    const linesOf = (refunded: number) => grossOfRefunded(refunded, order.total, gross)
    const before = linesOf(order.refunded_amount)
    while (amount > 0 && linesOf(order.refunded_amount + amount) - before > left) amount--
    return amount
  }

  async function viewOf(db: Db, id: string): Promise<Dispute> {
    const row = await disputesQuery(db).where('d.id', id).first()
    if (!row) throw Errors.notFound('Dispute')
    return disputeView(row)
  }

  /** One page of disputes, newest first, keyset-paged by (created_at, id). */
  async function page(db: Db, query: ReturnType<typeof disputesQuery>, q: ListQuery, scope: string) {
    const limit = q.limit ?? 20
    const after = decodeCursor(q.cursor, 2, scope) as [string, string] | undefined
    if (q.status) query.where('d.status', q.status)
    if (after) query.whereRaw('(d.created_at, d.id) < (?::timestamptz, ?::uuid)', after)
    const rows = await query
      .orderBy([
        { column: 'd.created_at', order: 'desc' },
        { column: 'd.id', order: 'desc' },
      ])
      .limit(limit + 1)
    const p = pageOf(rows, limit, (r) => [r.cursor_at, r.id], scope)
    return { items: p.items.map(disputeView), nextCursor: p.nextCursor }
  }

  return {
    /**
     * The buyer disputes a shipment of a paid order whose money is still in escrow: the
     * dispute is created and the money put on hold in one transaction, under the order's lock
     * (as receipt, hand-over and cancel take it), so concurrent opens make one dispute.
     */
    async open(ctx: ActorCtx, shipmentId: string, body: OpenDisputeBody): Promise<Dispute> {
      let disputeId: string
      try {
        disputeId = await spine.transaction(ctx, async (tx) => {
          const ref = await tx.db('shipments').where('id', shipmentId).first('order_id')
          if (!ref) throw Errors.notFound('Shipment')
          const order = await lockOrder(tx.db, ref.order_id)
          const shipment = await tx.db('shipments').where('id', shipmentId).forUpdate().first()
          if (!order || !shipment) throw Errors.notFound('Shipment')
          if (order.buyer_id !== ctx.actor.id) {
            if (shipment.seller_id === ctx.actor.id || ctx.actor.role === 'admin') throw DisputeErrors.buyerOnly()
            throw Errors.notFound('Shipment')
          }
          if (order.cancelled_at || !PAID_STATES.includes(order.payment_status))
            throw DisputeErrors.notOpenable(`The order is ${order.cancelled_at ? 'cancelled' : order.payment_status}`)
          if (shipment.status === 'cancelled') throw DisputeErrors.notOpenable('The shipment is cancelled')
          const open = await tx.db('disputes').where({ shipment_id: shipmentId, status: 'open' }).first('id')
          if (open) throw DisputeErrors.exists(open.id)
          const money = await ledger.escrowOf(tx.db, shipmentId)
          if (!money) throw DisputeErrors.nothingInEscrow()
          if (money.state === 'released') throw DisputeErrors.alreadyReleased()

          const [row] = await tx
            .db('disputes')
            .insert({
              shipment_id: shipmentId,
              order_id: order.id,
              buyer_id: order.buyer_id,
              seller_id: shipment.seller_id,
              reason: body.reason,
              detail: body.detail,
            })
            .returning('id')
          const id = row!.id
          // Under the escrow row's lock: released meanwhile (the sweeper takes no order lock) → refused.
          if (!(await ledger.hold(tx, shipmentId, id, ctx.actor.id))) throw DisputeErrors.alreadyReleased()

          const admins = await adminIds(tx.db)
          await tell(tx, {
            parties: [shipment.seller_id],
            admins,
            actorId: ctx.actor.id,
            data: { disputeId: id, status: 'open', shipmentId, orderId: order.id },
          })
          // New disputes appear live in the admin console (every admin's connections, not stored).
          spine.toAdmins(tx, 'admin:dispute', { disputeId: id, shipmentId })
          await audit(tx, {
            action: 'dispute.opened',
            targetType: 'dispute',
            targetId: id,
            after: {
              shipmentId,
              orderId: order.id,
              reason: body.reason,
              onHold: money.share - money.refunded_share,
            },
          })
          return id
        })
      } catch (err) {
        if (!isOpenDisputeConflict(err)) throw err
        const open = await ctx.db('disputes').where({ shipment_id: shipmentId, status: 'open' }).first('id')
        throw open ? DisputeErrors.exists(open.id) : err
      }
      return viewOf(ctx.db, disputeId)
    },

    /** The caller's disputes as a buyer or a seller (admins: `adminList` for all), newest first. */
    async list(ctx: ActorCtx, q: ListQuery) {
      const query = disputesQuery(ctx.db).where((w) =>
        w.where('d.buyer_id', ctx.actor.id).orWhere('d.seller_id', ctx.actor.id),
      )
      return page(ctx.db, query, q, 'disputes')
    },

    /** Every dispute (admins), by status, newest first. */
    async adminList(ctx: ActorCtx, q: ListQuery) {
      return page(ctx.db, disputesQuery(ctx.db), q, 'admin-disputes')
    },

    /** A dispute with its thread: its buyer, its seller and admins; 404 to anyone else. */
    async get(ctx: ActorCtx, id: string): Promise<DisputeWithMessages> {
      const row = await disputesQuery(ctx.db).where('d.id', id).first()
      if (!row || !roleIn(row, ctx.actor)) throw Errors.notFound('Dispute')
      const messages = await ctx
        .db('dispute_messages')
        .where('dispute_id', id)
        .orderBy([{ column: 'created_at' }, { column: 'id' }])
      return { ...disputeView(row), messages: messages.map(messageView) }
    },

    /** A message in an open dispute's thread, by its buyer, its seller or an admin; the other parties are told. */
    async addMessage(ctx: ActorCtx, id: string, body: string): Promise<DisputeMessage> {
      return spine.transaction(ctx, async (tx) => {
        // The dispute's lock: a message cannot slip in after its resolution commits.
        const d = await tx.db('disputes').where('id', id).forUpdate().first()
        const role = d ? roleIn(d, ctx.actor) : undefined
        if (!d || !role) throw Errors.notFound('Dispute')
        if (d.status !== 'open') throw DisputeErrors.resolved()
        const [message] = await tx
          .db('dispute_messages')
          .insert({ dispute_id: id, author_id: ctx.actor.id, author_role: role, body })
          .returning('*')
        await tell(tx, {
          parties: [d.buyer_id, d.seller_id],
          admins: await adminIds(tx.db),
          actorId: ctx.actor.id,
          data: { disputeId: id, status: d.status, messageId: message!.id },
        })
        return messageView(message!)
      })
    },

    /**
     * An admin decides an open dispute, in one transaction under the order's lock: `refund`
     * refunds the shipment's paid share (refundableOf), `split` refunds `refundAmount` of it,
     * `release` nothing; the refund is written to the outbox (taken back from the money on
     * hold), then what is left on hold is released to the seller. Both sides are told. The
     * refund is sent to Paystack after commit; if Paystack refuses it the dispute stays
     * resolved, the refund is `failed` (its money returns to the seller's bucket by the
     * ledger's sync, admins are told `refund_failed`), and the answer is 502 REFUND_REJECTED.
     */
    async resolve(ctx: ActorCtx, id: string, body: ResolveDisputeBody): Promise<Dispute> {
      if (body.outcome === 'split' && body.refundAmount === undefined)
        throw Errors.validation('A split needs refundAmount: the kobo refunded to the buyer', [
          { path: '/refundAmount', message: 'required with outcome split' },
        ])
      if (body.outcome !== 'split' && body.refundAmount !== undefined)
        throw Errors.validation('refundAmount goes only with outcome split', [
          { path: '/refundAmount', message: `not allowed with outcome ${body.outcome}` },
        ])
      const refundId = await spine.transaction(ctx, async (tx) => {
        const ref = await tx.db('disputes').where('id', id).first('order_id')
        if (!ref) throw Errors.notFound('Dispute')
        const order = (await lockOrder(tx.db, ref.order_id))!
        const d = (await tx.db('disputes').where('id', id).forUpdate().first())!
        if (d.status !== 'open') throw DisputeErrors.resolved()

        const refundable = await refundableOf(tx.db, order, d.shipment_id)
        const amount = body.outcome === 'release' ? 0 : body.outcome === 'refund' ? refundable : body.refundAmount!
        if (amount > refundable) throw DisputeErrors.refundTooLarge(refundable)
        let refund: string | null = null
        if (amount > 0) {
          const payment = await paymentOf(tx.db, order.id)
          if (payment?.status !== 'success') throw DisputeErrors.notPaidThroughPaystack()
          refund = await payments.requestRefund(tx, order, {
            amount,
            reason: 'Refund after a dispute',
            origin: 'dispute',
            requestedBy: ctx.actor.id,
            shipmentId: d.shipment_id,
            action: 'dispute.refunded',
            after: { disputeId: id },
            note: body.note,
          })
          await emitOrderStatus(spine, tx, order.id, { userIds: [order.buyer_id] })
        }
        // What is left on hold goes to the seller (nothing, or a kobo of rounding, after a full refund).
        await ledger.unhold(tx, d.shipment_id, id, ctx.actor.id)
        const released = (await ledger.release(tx, d.shipment_id, 'dispute', ctx.actor.id, id)) ?? 0

        await tx
          .db('disputes')
          .where('id', id)
          .update({
            status: 'resolved',
            outcome: body.outcome,
            refund_amount: body.outcome === 'release' ? null : amount,
            refund_id: refund,
            resolved_by: ctx.actor.id,
            resolution_note: body.note,
            resolved_at: tx.db.fn.now(),
          })
        await tell(tx, {
          parties: [d.buyer_id, d.seller_id],
          admins: [],
          actorId: ctx.actor.id,
          data: { disputeId: id, status: 'resolved', outcome: body.outcome },
        })
        await audit(tx, {
          action: 'admin.dispute_resolved',
          targetType: 'dispute',
          targetId: id,
          before: { status: 'open' },
          after: { status: 'resolved', outcome: body.outcome, refundAmount: amount, refundId: refund, released },
          note: body.note,
        })
        return refund
      })
      if (refundId) {
        const sent = await payments.submitRefund(ctx, refundId)
        if (sent === 'failed') {
          const refund = await refundById(ctx.db, refundId)
          throw PaymentErrors.refundRejected(refund?.last_error ?? 'refused').with({
            data: { disputeId: id, refundId },
          })
        }
      }
      return viewOf(ctx.db, id)
    },
  }
}

export type DisputesService = ReturnType<typeof createDisputesService>
