import { randomUUID } from 'node:crypto'
import { savedAddressOf } from '../accounts/index.js'
import {
  CartErrors,
  assertReservationCaps,
  cartWithStock,
  lineRefusal,
  linePrice,
  listingStock,
  lockListings,
  stockAndReserve,
  type ListingStock,
} from '../cart/index.js'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { previewCoupon, recordRedemption, redeemCoupon, type CouponRow } from '../coupons/index.js'
import {
  buildOrderViews,
  convertToSold,
  emitOrderStatus,
  newOrderSql,
  orderView,
  queuePaidMails,
  reviveRow,
  setPaymentStatus,
  type JsonRow,
  type NewOrderJson,
  type OrderRow,
  type OrderRows,
} from '../orders/index.js'
import {
  markPaymentStarted,
  newPaymentSql,
  newReference,
  PaymentErrors,
  PaystackError,
  type NewPaymentRow,
  type PaymentGateway,
  type PaymentsService,
} from '../payments/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { hotQuery } from '../db/index.js'
import { ListingErrors } from '../listings/index.js'
import { isCallbackUrlAllowed } from './callback-url.js'
import { CheckoutErrors } from './checkout.errors.js'
import type { CheckoutBody, CheckoutResult, ShippingAddressInput } from './checkout.schemas.js'

/** What checkout needs: the checkout window, the gateway, payments (to undo a failed start) and the spine. */
export type CheckoutDeps = {
  config: Pick<
    Config,
    | 'RESERVATION_TTL_SECONDS'
    | 'publicUrl'
    | 'CHECKOUT_MAX_UNPAID'
    | 'RESERVATION_MAX_SHARE_PERCENT'
    | 'paymentCallbackOrigins'
  >
  spine: EventSpine
  gateway: PaymentGateway
  payments: PaymentsService
  /** Wakes the mail sender after a transaction that queued mail committed. */
  mailQueued: () => void
}

type BuyerCtx = Ctx & { actor: Actor }
type CartLine = { listing_id: string; quantity: number }
type PricedLine = { listing: ListingStock; quantity: number; unitPrice: number; offerId: string | null }

/** The listings' terms moved between the unlocked read and the locked one. */
class TermsChanged extends Error {}

/** The same sale: listing, seller, title, type, price and offer as when the order was written. */
const sameTerms = (a: PricedLine, b: PricedLine) =>
  a.listing.id === b.listing.id &&
  a.listing.sellerId === b.listing.sellerId &&
  a.listing.title === b.listing.title &&
  a.listing.type === b.listing.type &&
  a.listing.price === b.listing.price &&
  a.listing.currency === b.listing.currency &&
  a.unitPrice === b.unitPrice &&
  a.offerId === b.offerId &&
  a.quantity === b.quantity

type PlaceInput = {
  buyerId: string
  lines: CartLine[]
  ids: string[]
  terms: PricedLine[]
  subtotal: number
  coupon: { coupon: CouponRow; discount: number } | undefined
  address: Required<ShippingAddressInput>
  callbackUrl: string
}
type Placed = { order: OrderRow; rows: OrderRows; reference: string | undefined }

async function shippingAddress(ctx: BuyerCtx, input: CheckoutBody): Promise<Required<ShippingAddressInput>> {
  if (input.address && input.addressId)
    throw Errors.validation('Give addressId or address, not both', [
      { path: '/body/address', message: 'not both addressId and address' },
    ])
  if (input.address) {
    const a = input.address
    return {
      fullName: a.fullName.trim(),
      phone: a.phone,
      line1: a.line1.trim(),
      line2: a.line2 ?? null,
      city: a.city.trim(),
      state: a.state.trim(),
      country: a.country ?? 'NG',
      postalCode: a.postalCode ?? null,
    }
  }
  const row = await savedAddressOf(ctx.db, ctx.actor.id, input.addressId)
  if (!row) throw input.addressId ? Errors.notFound('Address') : CheckoutErrors.addressRequired()
  return {
    fullName: row.full_name,
    phone: row.phone,
    line1: row.line1,
    line2: row.line2,
    city: row.city,
    state: row.state,
    country: row.country,
    postalCode: row.postal_code,
  }
}

type OrderInput = {
  id: string
  buyerId: string
  subtotal: number
  discount: number
  total: number
  currency: string
  coupon: { id: string; code: string } | undefined
  address: Required<ShippingAddressInput>
  callbackUrl: string
  ttlSeconds: number
  sellerIds: string[]
  terms: PricedLine[]
  reference: string | undefined
}

/**
 * The order, one shipment per seller with its first history line, the snapshotted lines
 * and the payment row, written by ONE statement (data-modifying CTEs) instead of five
 * round trips; orders and payments each give their part, and the rows come back as JSON.
 */
async function writeOrder(db: Db, o: OrderInput): Promise<{ order: OrderRow } & Omit<OrderRows, 'refunds'>> {
  const order = newOrderSql({
    ...o,
    lines: o.terms.map((t) => ({
      listing_id: t.listing.id,
      seller_id: t.listing.sellerId,
      title: t.listing.title,
      listing_type: t.listing.type,
      list_price: t.listing.price,
      unit_price: t.unitPrice,
      quantity: t.quantity,
      currency: t.listing.currency,
      offer_id: t.offerId,
    })),
  })
  const payment = newPaymentSql({ amount: o.total, currency: o.currency, reference: o.reference })
  // Prepared: the text is the same for every order, and planning five inserts costs more than running them.
  const [r] = (await hotQuery<NewOrderJson & { payments: JsonRow<NewPaymentRow>[] }>(
    db,
    `with ${order.ctes}, ${payment.cte}
     select ${order.columns},
       ${payment.columns}`,
    { ...order.bindings, ...payment.bindings },
    { prepared: true },
  )) as [NewOrderJson & { payments: JsonRow<NewPaymentRow>[] }]
  return { ...order.read(r), payments: r.payments.map((x) => reviveRow<NewPaymentRow>(x)) }
}

/**
 * Checkout: one transaction snapshots the lines (title, price, seller), splits the order
 * into one shipment per seller, locks the cart's listings in id order, checks stock, uses
 * the coupon (conditional UPDATE) and reserves the units for RESERVATION_TTL_SECONDS.
 * Paystack is asked to initialize after that commit, so no listing lock is ever held across
 * a network call; if Paystack fails, a compensating transaction releases everything and
 * the buyer gets 503.
 */
export function createCheckoutService(deps: CheckoutDeps) {
  const { spine, gateway, payments } = deps
  const defaultCallback = `${deps.config.publicUrl}/v1/payments/paystack/callback`

  const limits = {
    maxUnpaidCheckouts: deps.config.CHECKOUT_MAX_UNPAID,
    maxSharePercent: deps.config.RESERVATION_MAX_SHARE_PERCENT,
  }

  function price(lines: CartLine[], buyerId: string, stock: Map<string, ListingStock>): PricedLine[] {
    const priced = lines.map((l) => {
      const s = stock.get(l.listing_id)
      const refusal = lineRefusal(s, buyerId, { listingId: l.listing_id, quantity: l.quantity })
      if (refusal || !s) throw refusal ?? ListingErrors.listingNotFound()
      return { listing: s, quantity: l.quantity, ...linePrice(s) }
    })
    assertReservationCaps(lines, stock, limits)
    return priced
  }

  /**
   * Writes the order in one transaction. The rows that do not depend on stock are written
   * first; the listing locks are taken last, so they are held only for the stock check, the
   * coupon's conditional UPDATE, the reservations and the commit. Under the locks the terms
   * are read again: if a price, offer or title moved since `terms` was read, the
   * transaction is rolled back (TermsChanged) and the caller starts again.
   */
  async function place(tx: TxCtx, p: PlaceInput): Promise<Placed> {
    const { buyerId, terms, subtotal, coupon } = p
    const currencies = new Set(terms.map((t) => t.listing.currency))
    if (currencies.size > 1) throw CartErrors.mixedCurrencies()
    const currency = terms[0]!.listing.currency
    const discount = coupon?.discount ?? 0
    const total = subtotal - discount

    const sellerIds = [...new Set(terms.map((t) => t.listing.sellerId))].sort()
    const orderId = randomUUID()
    const reference = total > 0 ? newReference(orderId) : undefined
    const { order, shipments, history, items, payments } = await writeOrder(tx.db, {
      id: orderId,
      buyerId,
      subtotal,
      discount,
      total,
      currency,
      coupon: coupon?.coupon,
      address: p.address,
      callbackUrl: p.callbackUrl,
      ttlSeconds: deps.config.RESERVATION_TTL_SECONDS,
      sellerIds,
      terms,
      reference,
    })
    // The buyer's order:status event does not depend on stock: written before the locks.
    if (reference) await emitOrderStatus(spine, tx, order.id, { userIds: [] }, { known: { order, shipments } })

    await lockListings(tx.db, p.ids, { buyerId })
    // A new statement after the locks, so it sees every reservation committed before them.
    // With a payment to wait for, the same statement reserves the units (rolled back below
    // if a line no longer fits).
    const stock = reference
      ? await stockAndReserve(tx.db, p.ids, {
          buyerId,
          orderId: order.id,
          expiresAt: order.expires_at!,
          lines: p.lines,
        })
      : await listingStock(tx.db, p.ids, { buyerId, exceptOrderId: order.id })
    const now = price(p.lines, buyerId, stock)
    if (now.some((t, i) => !sameTerms(t, terms[i]!))) throw new TermsChanged()
    if (coupon) {
      const redeemed = await redeemCoupon(tx.db, coupon.coupon.code, buyerId, subtotal)
      if (redeemed.coupon.id !== coupon.coupon.id || redeemed.discount !== discount) throw new TermsChanged()
      await recordRedemption(tx.db, { couponId: redeemed.coupon.id, userId: buyerId, orderId: order.id, discount })
    }
    const rows = { items, shipments, history, payments, refunds: [] }

    if (!reference) {
      // Giveaways only (or a coupon that covers everything): no payment, confirmed now.
      await convertToSold(tx.db, order, items)
      await setPaymentStatus(tx, order, 'paid', {
        action: 'order.confirmed_without_payment',
        paid_at: tx.db.fn.now(),
        after: { total: 0 },
      })
      await emitOrderStatus(spine, tx, order.id, { userIds: [buyerId, ...sellerIds] })
      await queuePaidMails(tx.db, { ...order, payment_status: 'paid' }, items, deps.config.publicUrl)
      return { order: (await tx.db('orders').where('id', order.id).first()) ?? order, rows, reference }
    }
    return { order, rows, reference }
  }

  return {
    async checkout(ctx: BuyerCtx, input: CheckoutBody): Promise<CheckoutResult> {
      const buyerId = ctx.actor.id
      if (
        input.callbackUrl !== undefined &&
        !isCallbackUrlAllowed(input.callbackUrl, deps.config.paymentCallbackOrigins)
      )
        throw CheckoutErrors.callbackUrlNotAllowed()
      // The cart's lines, the buyer's email, the cart's coupon and the lines' stock in one read.
      const buyer = await cartWithStock(ctx.db, buyerId)
      if (!buyer) throw Errors.unauthenticated()
      const lines = buyer.lines
      if (lines.length === 0) throw CartErrors.cartEmpty()
      const address = await shippingAddress(ctx, input)
      const ids = lines.map((l) => l.listing_id)
      const couponCode = input.couponCode ?? buyer.cartCoupon ?? undefined

      let created: Placed | undefined
      for (let attempt = 1; !created; attempt++) {
        // The terms, read without locks: most losers of a race for the last unit stop here,
        // before queueing on a row lock.
        const terms = price(lines, buyerId, attempt === 1 ? buyer.stock : await listingStock(ctx.db, ids, { buyerId }))
        const subtotal = terms.reduce((sum, p) => sum + p.unitPrice * p.quantity, 0)
        const coupon =
          couponCode && subtotal > 0 ? await previewCoupon(ctx.db, couponCode, buyerId, subtotal) : undefined
        try {
          created = await spine.transaction(ctx, (tx) =>
            place(tx, {
              buyerId,
              lines,
              ids,
              terms,
              subtotal,
              coupon,
              address,
              callbackUrl: input.callbackUrl ?? defaultCallback,
            }),
          )
        } catch (err) {
          if (!(err instanceof TermsChanged)) throw err
          if (attempt >= 3) throw CheckoutErrors.termsChanged()
        }
      }

      const viewer = { userId: buyerId, role: ctx.actor.role }
      const { order, rows, reference } = created
      if (!reference) {
        deps.mailQueued()
        return { order: buildOrderViews([order], rows, viewer)[0]!, payment: null }
      }
      let init: Awaited<ReturnType<typeof gateway.initialize>>
      try {
        init = await gateway.initialize({
          email: buyer.email,
          amount: String(order.total),
          currency: order.currency,
          reference,
          callback_url: order.callback_url ?? defaultCallback,
          metadata: { orderId: order.id, buyerId },
        })
        if (init.reference && init.reference !== reference)
          throw new PaystackError('rejected', 'Paystack answered with another reference')
        if (!init.authorization_url || !init.access_code)
          throw new PaystackError('rejected', 'Paystack answered without an authorization URL')
      } catch (err) {
        const message = String((err as Error).message)
        ctx.log[err instanceof PaystackError && err.kind === 'unavailable' ? 'warn' : 'error'](
          { orderId: order.id, err: message },
          'Paystack initialize failed; checkout undone',
        )
        await payments.failCheckout(ctx, order.id, message)
        throw PaymentErrors.providerUnavailable()
      }
      const payment = await markPaymentStarted(ctx, order.id, { ...init, reference })
      // A webhook may have moved the order on meanwhile; then show it as it is now.
      const view = payment
        ? buildOrderViews([order], { ...rows, payments: [payment] }, viewer)[0]!
        : await orderView(ctx.db, order.id, viewer)
      return {
        order: view,
        payment: {
          provider: 'paystack',
          reference,
          authorizationUrl: init.authorization_url,
          accessCode: init.access_code,
          amount: order.total,
          currency: order.currency,
          expiresAt: order.expires_at!.toISOString(),
        },
      }
    },
  }
}

export type CheckoutService = ReturnType<typeof createCheckoutService>
