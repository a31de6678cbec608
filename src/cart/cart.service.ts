import type { Db } from '../db/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { AppError, Errors } from '../shared/index.js'
import { ListingErrors, isListingOnSale } from '../listings/index.js'
import { previewCoupon } from '../coupons/index.js'
import { CartErrors } from './cart.errors.js'
import { lineRefusal } from './line-rules.js'
import type { Cart, CartItem } from './cart.schemas.js'
import { linePrice, listingStock } from './pricing.js'

export const MAX_CART_LINES = 50

type BuyerCtx = Ctx & { actor: Actor }

/** The server-side cart: one per user, priced and checked against stock on every read. */
export const cartService = {
  async get(ctx: BuyerCtx): Promise<Cart> {
    const userId = ctx.actor.id
    const lines = await ctx
      .db('cart_items')
      .where('user_id', userId)
      .orderBy([{ column: 'added_at' }, { column: 'listing_id' }])
    const ids = lines.map((l) => l.listing_id)
    const [stock, cart] = await Promise.all([
      listingStock(ctx.db, ids, { buyerId: userId }),
      ctx
        .db('carts as c')
        .leftJoin('coupons as k', 'k.id', 'c.coupon_id')
        .where('c.user_id', userId)
        .first<{ code: string | null } | undefined>('k.code'),
    ])
    const items: CartItem[] = []
    for (const l of lines) {
      const s = stock.get(l.listing_id)
      if (!s) continue
      const offer = s.offer
      const currentPrice = offer?.amount ?? s.price
      items.push({
        listingId: s.id,
        title: s.title,
        sellerId: s.sellerId,
        type: s.type,
        quantity: l.quantity,
        unitPrice: l.unit_price,
        currentPrice,
        listPrice: s.price,
        priceChanged: currentPrice !== l.unit_price,
        available: isListingOnSale(s) && !s.blocked && s.available >= l.quantity,
        availableQuantity: s.available,
        status: s.status,
        ...(offer ? { offerId: offer.id, offerQuantity: offer.quantity } : {}),
        lineTotal: currentPrice * l.quantity,
        currency: s.currency,
        addedAt: l.added_at.toISOString(),
      })
    }
    const subtotal = items.reduce((sum, i) => sum + i.lineTotal, 0)
    let coupon: Cart['coupon'] = null
    if (cart?.code) {
      try {
        const preview = await previewCoupon(ctx.db, cart.code, userId, subtotal)
        coupon = { code: preview.coupon.code, discount: preview.discount, valid: true }
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        coupon = { code: cart.code, discount: 0, valid: false, problem: { code: err.code, detail: err.message } }
      }
    }
    const discount = coupon?.valid ? coupon.discount : 0
    return {
      items,
      subtotal,
      discount,
      total: subtotal - discount,
      currency: items[0]?.currency ?? 'NGN',
      coupon,
      checkoutReady:
        items.length > 0 && items.every((i) => i.available && (i.offerQuantity ?? i.quantity) >= i.quantity),
    }
  },

  /** Puts a listing in the cart with this quantity (adds or replaces the line). */
  async putItem(ctx: BuyerCtx, listingId: string, quantity: number): Promise<Cart> {
    const userId = ctx.actor.id
    const s = (await listingStock(ctx.db, [listingId], { buyerId: userId })).get(listingId)
    const refusal = lineRefusal(s, userId, { listingId, quantity })
    if (refusal || !s) throw refusal ?? ListingErrors.listingNotFound()
    const { unitPrice } = linePrice(s)
    await ctx.db.transaction(async (trx) => {
      // Serialises this user's cart edits so the line cap holds.
      await trx('carts').insert({ user_id: userId }).onConflict('user_id').merge({ updated_at: trx.fn.now() })
      await trx('carts').where('user_id', userId).forUpdate().first('user_id')
      const exists = await trx('cart_items').where({ user_id: userId, listing_id: listingId }).first('listing_id')
      if (!exists) {
        const count = await trx('cart_items').where('user_id', userId).count({ n: '*' }).first()
        if (Number(count?.n ?? 0) >= MAX_CART_LINES) throw CartErrors.cartFull(MAX_CART_LINES)
      }
      await trx('cart_items')
        .insert({
          user_id: userId,
          listing_id: listingId,
          quantity,
          unit_price: unitPrice,
          currency: s.currency,
        })
        .onConflict(['user_id', 'listing_id'])
        .merge({ quantity, unit_price: unitPrice, updated_at: trx.fn.now() })
    })
    return cartService.get(ctx)
  },

  async removeItem(ctx: BuyerCtx, listingId: string): Promise<Cart> {
    const n = await ctx.db('cart_items').where({ user_id: ctx.actor.id, listing_id: listingId }).delete()
    if (n === 0) throw Errors.notFound('Cart line')
    return cartService.get(ctx)
  },

  async clear(ctx: BuyerCtx): Promise<void> {
    await ctx.db.transaction(async (trx) => {
      await trx('cart_items').where('user_id', ctx.actor.id).delete()
      await trx('carts').where('user_id', ctx.actor.id).update({ coupon_id: null, updated_at: trx.fn.now() })
    })
  },

  /** Previews a coupon on the cart; the discount is only locked in at checkout. */
  async setCoupon(ctx: BuyerCtx, code: string): Promise<Cart> {
    const current = await cartService.get(ctx)
    const { coupon } = await previewCoupon(ctx.db, code, ctx.actor.id, current.subtotal)
    await ctx
      .db('carts')
      .insert({ user_id: ctx.actor.id, coupon_id: coupon.id })
      .onConflict('user_id')
      .merge({ coupon_id: coupon.id, updated_at: ctx.db.fn.now() })
    return cartService.get(ctx)
  },

  async removeCoupon(ctx: BuyerCtx): Promise<Cart> {
    await ctx.db('carts').where('user_id', ctx.actor.id).update({ coupon_id: null, updated_at: ctx.db.fn.now() })
    return cartService.get(ctx)
  },
}

/**
 * A sale took these listings out of the buyer's cart: their lines go, and the cart's coupon
 * too when the order used it. Runs in the confirming transaction.
 */
export async function removeBoughtFromCart(
  db: Db,
  buyerId: string,
  listingIds: string[],
  couponId: string | null,
): Promise<void> {
  if (listingIds.length > 0) await db('cart_items').where('user_id', buyerId).whereIn('listing_id', listingIds).delete()
  if (couponId)
    await db('carts')
      .where({ user_id: buyerId, coupon_id: couponId })
      .update({ coupon_id: null, updated_at: db.fn.now() })
}

/** Takes a listing out of every cart (moderation removed it), in the caller's transaction; returns how many lines went. */
export async function removeListingFromCarts(db: Db, listingId: string): Promise<number> {
  return db('cart_items').where('listing_id', listingId).delete()
}
