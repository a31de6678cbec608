import { audit } from '../audit/index.js'
import type { Db } from '../db/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import { decodeCursor, pageOf } from '../shared/index.js'
import { Errors, type AppError } from '../shared/index.js'
import { CouponErrors } from './coupons.errors.js'
import type { CouponRow } from './coupons.tables.js'
import type { Coupon, CreateCouponBody, UpdateCouponBody } from './coupons.schemas.js'

export function toCoupon(r: CouponRow): Coupon {
  return {
    id: r.id,
    code: r.code,
    type: r.type,
    value: r.value,
    minOrder: r.min_order,
    maxDiscount: r.max_discount,
    expiresAt: r.expires_at ? r.expires_at.toISOString() : null,
    usageLimit: r.usage_limit,
    perUserLimit: r.per_user_limit,
    usedCount: r.used_count,
    active: r.active,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  }
}

export const normalizeCode = (code: string) => code.trim().toUpperCase()

/** The discount a coupon gives on a subtotal: never more than the subtotal or maxDiscount. */
export function discountFor(c: Pick<CouponRow, 'type' | 'value' | 'max_discount'>, subtotal: number): number {
  const raw = c.type === 'percent' ? Math.floor((subtotal * c.value) / 100) : c.value
  return Math.max(0, Math.min(raw, subtotal, c.max_discount ?? Number.MAX_SAFE_INTEGER))
}

async function liveUsesBy(db: Db, couponId: string, userId: string): Promise<number> {
  const row = await db('coupon_redemptions')
    .where({ coupon_id: couponId, user_id: userId })
    .whereNull('released_at')
    .count({ n: '*' })
    .first()
  return Number(row?.n ?? 0)
}

/**
 * The one definition of "this coupon can be used once more on this subtotal" (the per-user
 * limit aside, which needs a count): the first reason it cannot, or undefined. Checkout's
 * conditional UPDATE states the same rules in SQL so that a race cannot pass them.
 */
function couponRefusal(c: CouponRow | undefined, subtotal: number): AppError | undefined {
  if (!c || !c.active) return CouponErrors.notFound()
  if (c.expires_at && c.expires_at.getTime() <= Date.now()) return CouponErrors.expired()
  if (c.usage_limit !== null && c.used_count >= c.usage_limit) return CouponErrors.usedUp()
  if (c.min_order !== null && subtotal < c.min_order) return CouponErrors.minOrder(c.min_order)
  return undefined
}

/** Throws the first reason this coupon does not apply to this buyer and subtotal. */
function assertApplies(c: CouponRow | undefined, subtotal: number): asserts c is CouponRow {
  const refusal = couponRefusal(c, subtotal)
  if (refusal) throw refusal
}

export async function couponByCode(db: Db, code: string): Promise<CouponRow | undefined> {
  return db('coupons')
    .whereRaw('upper(code) = ?', [normalizeCode(code)])
    .first()
}

/** Checks a coupon for a cart without using it: the cart's preview. */
export async function previewCoupon(
  db: Db,
  code: string,
  userId: string,
  subtotal: number,
): Promise<{ coupon: CouponRow; discount: number }> {
  const coupon = await couponByCode(db, code)
  assertApplies(coupon, subtotal)
  if (coupon.per_user_limit !== null && (await liveUsesBy(db, coupon.id, userId)) >= coupon.per_user_limit)
    throw CouponErrors.userLimit()
  return { coupon, discount: discountFor(coupon, subtotal) }
}

/**
 * Uses a coupon inside the checkout transaction. The use is counted by one conditional
 * UPDATE, so the total limit holds under any number of concurrent checkouts; the row lock
 * that UPDATE takes also serialises the per-user count that follows. The caller records
 * the redemption once the order exists.
 */
export async function redeemCoupon(
  db: Db,
  code: string,
  userId: string,
  subtotal: number,
): Promise<{ coupon: CouponRow; discount: number }> {
  const [coupon] = await db('coupons')
    .whereRaw('upper(code) = ?', [normalizeCode(code)])
    .where('active', true)
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', db.fn.now()))
    .andWhere((q) => q.whereNull('usage_limit').orWhereRaw('used_count < usage_limit'))
    .andWhere((q) => q.whereNull('min_order').orWhere('min_order', '<=', subtotal))
    .update({ used_count: db.raw('used_count + 1'), updated_at: db.fn.now() })
    .returning('*')
  if (!coupon) {
    // Say why, from the row as it is now.
    const current = await couponByCode(db, code)
    assertApplies(current, subtotal)
    throw CouponErrors.usedUp()
  }
  if (coupon.per_user_limit !== null && (await liveUsesBy(db, coupon.id, userId)) >= coupon.per_user_limit)
    throw CouponErrors.userLimit()
  return { coupon, discount: discountFor(coupon, subtotal) }
}

/** Records the coupon use of an order, in the checkout transaction that redeemed it. */
export async function recordRedemption(
  db: Db,
  use: { couponId: string; userId: string; orderId: string; discount: number },
): Promise<void> {
  await db('coupon_redemptions').insert({
    coupon_id: use.couponId,
    user_id: use.userId,
    order_id: use.orderId,
    discount: use.discount,
  })
}

/** Gives an order's coupon use back (abandoned, failed or cancelled order). */
export async function releaseRedemption(db: Db, orderId: string): Promise<void> {
  const released = await db('coupon_redemptions')
    .where('order_id', orderId)
    .whereNull('released_at')
    .update({ released_at: db.fn.now() })
    .returning('coupon_id')
  for (const r of released)
    await db('coupons')
      .where('id', r.coupon_id)
      .andWhere('used_count', '>', 0)
      .update({ used_count: db.raw('used_count - 1'), updated_at: db.fn.now() })
}

/**
 * Counts a released use again, for a payment that arrived after its checkout expired: only
 * if the coupon could be used now as at checkout (active, unexpired, under its total and
 * per-user limits, minimum order met). Otherwise nothing changes and the reason is returned:
 * the caller refunds the payment rather than count a use past a limit. Locks the coupon row
 * (after the order and its listings, the order every writer takes them in).
 */
export async function restoreRedemption(
  db: Db,
  order: { id: string; buyer_id: string; subtotal: number },
): Promise<AppError | undefined> {
  const use = await db('coupon_redemptions').where('order_id', order.id).whereNotNull('released_at').first()
  if (!use) return undefined
  const coupon = await db('coupons').where('id', use.coupon_id).forUpdate().first()
  const refusal = couponRefusal(coupon, order.subtotal)
  if (refusal || !coupon) return refusal ?? CouponErrors.notFound()
  if (coupon.per_user_limit !== null && (await liveUsesBy(db, coupon.id, order.buyer_id)) >= coupon.per_user_limit)
    return CouponErrors.userLimit()
  await db('coupons')
    .where('id', use.coupon_id)
    .update({ used_count: db.raw('used_count + 1'), updated_at: db.fn.now() })
  await db('coupon_redemptions').where('id', use.id).update({ released_at: null })
  return undefined
}

/** Admin CRUD of coupons; every change writes an audit row. */
export const couponsAdmin = {
  async list(ctx: Ctx, q: { active?: boolean; limit?: number; cursor?: string }) {
    const limit = q.limit ?? 20
    const after = decodeCursor(q.cursor, 2, 'admin-coupons') as [string, string] | undefined
    const query = ctx.db('coupons')
    if (q.active !== undefined) query.where('active', q.active)
    if (after) query.andWhereRaw('(created_at, id) < (?::timestamptz, ?::uuid)', after)
    const rows = await query
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .limit(limit + 1)
      .select<(CouponRow & { cursor_at: string })[]>('*', ctx.db.raw("to_json(created_at) #>> '{}' as cursor_at"))
    const page = pageOf(rows, limit, (r) => [r.cursor_at, r.id], 'admin-coupons')
    return { items: page.items.map(toCoupon), nextCursor: page.nextCursor }
  },

  async get(ctx: Ctx, id: string): Promise<Coupon> {
    const row = await ctx.db('coupons').where('id', id).first()
    if (!row) throw Errors.notFound('Coupon')
    return toCoupon(row)
  },

  async create(ctx: Ctx & { actor: Actor }, body: CreateCouponBody): Promise<Coupon> {
    if (body.type === 'percent' && body.value > 100)
      throw Errors.validation('A percent coupon takes 1-100', [
        { path: '/body/value', message: 'must be 1-100 for a percent coupon' },
      ])
    return ctx.db.transaction(async (trx) => {
      if (await couponByCode(trx, body.code)) throw CouponErrors.codeTaken()
      let row: CouponRow | undefined
      try {
        ;[row] = await trx('coupons')
          .insert({
            code: normalizeCode(body.code),
            type: body.type,
            value: body.value,
            min_order: body.minOrder ?? null,
            max_discount: body.maxDiscount ?? null,
            expires_at: body.expiresAt ? new Date(body.expiresAt) : null,
            usage_limit: body.usageLimit ?? null,
            per_user_limit: body.perUserLimit ?? null,
            active: body.active ?? true,
            created_by: ctx.actor.id,
          })
          .returning('*')
      } catch (err) {
        if ((err as { code?: string }).code === '23505') throw CouponErrors.codeTaken()
        throw err
      }
      if (!row) throw new Error('coupon insert returned no row')
      await audit(
        { ...ctx, db: trx },
        { action: 'admin.coupon_created', targetType: 'coupon', targetId: row.id, after: toCoupon(row) },
      )
      return toCoupon(row)
    })
  },

  async update(ctx: Ctx & { actor: Actor }, id: string, patch: UpdateCouponBody): Promise<Coupon> {
    return ctx.db.transaction(async (trx) => {
      const before = await trx('coupons').where('id', id).forUpdate().first()
      if (!before) throw Errors.notFound('Coupon')
      const type = patch.type ?? before.type
      const value = patch.value ?? before.value
      if (type === 'percent' && value > 100)
        throw Errors.validation('A percent coupon takes 1-100', [
          { path: '/body/value', message: 'must be 1-100 for a percent coupon' },
        ])
      if (patch.usageLimit !== undefined && patch.usageLimit !== null && patch.usageLimit < before.used_count)
        throw CouponErrors.limitBelowUses(before.used_count)
      const changes = {
        updated_at: trx.fn.now(),
        ...(patch.type !== undefined ? { type: patch.type } : {}),
        ...(patch.value !== undefined ? { value: patch.value } : {}),
        ...(patch.minOrder !== undefined ? { min_order: patch.minOrder } : {}),
        ...(patch.maxDiscount !== undefined ? { max_discount: patch.maxDiscount } : {}),
        ...(patch.expiresAt !== undefined
          ? { expires_at: patch.expiresAt === null ? null : new Date(patch.expiresAt) }
          : {}),
        ...(patch.usageLimit !== undefined ? { usage_limit: patch.usageLimit } : {}),
        ...(patch.perUserLimit !== undefined ? { per_user_limit: patch.perUserLimit } : {}),
        ...(patch.active !== undefined ? { active: patch.active } : {}),
      }
      const [after] = await trx('coupons').where('id', id).update(changes).returning('*')
      if (!after) throw Errors.notFound('Coupon')
      await audit(
        { ...ctx, db: trx },
        {
          action: 'admin.coupon_updated',
          targetType: 'coupon',
          targetId: id,
          before: toCoupon(before),
          after: toCoupon(after),
        },
      )
      return toCoupon(after)
    })
  },
}
