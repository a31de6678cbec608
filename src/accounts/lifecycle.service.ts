import { createHash, randomBytes } from 'node:crypto'
import { audit } from '../audit/index.js'
import type { Config } from '../config.js'
import type { Db, Knex } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { enqueueMail } from '../mail/index.js'
import { cancelShipments, lockOrder, PAID_STATES, releaseHolds, setPaymentStatus } from '../orders/index.js'
import { expirePayment } from '../payments/index.js'
import { payoutInFlight } from '../payouts/index.js'
import type { Actor, Ctx, TxCtx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { AccountErrors } from './accounts.errors.js'
import { passwords } from './passwords.js'
import type { UserRow } from './accounts.tables.js'
import type { LoginLimiter } from './login-limiter.js'
import type { AccountExport, SessionView } from './lifecycle.schemas.js'

type ActorCtx = Ctx & { actor: Actor }

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const normEmail = (email: string) => email.trim().toLowerCase()

/** What an erased account's name becomes (its id stays: orders, ledger and audit rows name it). */
export const ERASED_NAME = 'Deleted user'
/** What an erased account's chat messages read. */
export const ERASED_MESSAGE = '[deleted]'
/** The most rows of one kind an export carries; a section cut there is named in `truncated`. */
export const EXPORT_SECTION_LIMIT = 10_000

/** Shipment states in which a paid trade is over: nothing is owed either way. */
const SETTLED_SHIPMENTS = ['received', 'cancelled']

export type LifecycleDeps = {
  config: Pick<Config, 'appLinkBase'>
  spine: EventSpine
  mailQueued: () => void
  /** Counts wrong passwords like sign-in does (10 per account and IP, 30 per IP, per 15 min). */
  passwordLimiter: LoginLimiter
  /** The catalogue's own removal of a listing (photos to the blob-deletion outbox), in the caller's transaction. */
  removeListing: (ctx: TxCtx & { actor: Actor }, listingId: string) => Promise<void>
}

/** True when the unique index on `lower(users.email)` refused the statement. */
function isUniqueViolation(err: unknown): boolean {
  const e = err as { nativeError?: { code?: string }; code?: string }
  return (e.nativeError?.code ?? e.code) === '23505'
}

/**
 * Switches an account to the address of an email-change link (called by verify-email when the
 * token carries `new_email`), in the caller's transaction. The address is checked again here:
 * another account may have taken it since the link was mailed (409 EMAIL_TAKEN; the unique
 * index settles two switches racing for one address). The old address gets a notice, and every
 * other verification link of the account is spent.
 */
export async function switchEmail(db: Db, userId: string, newEmail: string, appLinkBase: string): Promise<void> {
  const user = await db('users').where('id', userId).forNoKeyUpdate().first()
  if (!user || user.deleted_at) throw AccountErrors.invalidToken()
  const taken = await db('users').whereRaw('lower(email) = ?', [newEmail]).whereNot('id', userId).first('id')
  if (taken) throw AccountErrors.emailTaken()
  try {
    // A savepoint, so that a lost race leaves the caller's transaction usable for its error.
    await db.transaction(async (sp) => {
      await sp('users')
        .where('id', userId)
        .update({ email: newEmail, email_verified_at: sp.fn.now(), updated_at: sp.fn.now() })
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw AccountErrors.emailTaken()
    throw err
  }
  await db('user_tokens')
    .where({ user_id: userId, purpose: 'verify_email' })
    .whereNull('used_at')
    .update({ used_at: db.fn.now() })
  await enqueueMail(db, {
    to: user.email,
    subject: 'Your Oja email address was changed',
    text:
      `Hello ${user.name},\n\nThe email address of your Oja account was changed to ${newEmail}. ` +
      `Mail about your account, and signing in, now use that address.\n\nIf you did not do this, write to Oja's support at once ` +
      `(${appLinkBase}).`,
  })
}

/**
 * Account lifecycle: changing the password and the email, listing and ending sessions,
 * exporting everything held about the account, and erasing it.
 */
export function createLifecycleService(deps: LifecycleDeps) {
  const { spine, config } = deps

  /**
   * Checks the caller's own password, counted like sign-in attempts (429 RATE_LIMITED past the
   * limit); a wrong one is 403 WRONG_PASSWORD.
   */
  async function checkPassword(ctx: ActorCtx, password: string, ip: string): Promise<UserRow> {
    const key = `user:${ctx.actor.id}`
    await deps.passwordLimiter.attempt(key, ip)
    const user = await ctx.db('users').where('id', ctx.actor.id).first()
    if (!user || user.deleted_at) throw Errors.unauthenticated()
    const ok = await passwords.verify(user.password_hash, password)
    if (!ok) throw AccountErrors.wrongPassword()
    await deps.passwordLimiter.succeed(key, ip)
    return user
  }

  /** What still stops an erasure, as `ACCOUNT_HAS_OPEN_TRADES` reasons (none: it may go ahead). */
  async function openTrades(db: Db, userId: string): Promise<string[]> {
    const reasons: string[] = []
    const paidOpen = (side: 'o.buyer_id' | 's.seller_id') =>
      db('orders as o')
        .join('shipments as s', 's.order_id', 'o.id')
        .where(side, userId)
        .whereIn('o.payment_status', PAID_STATES)
        .whereNotIn('s.status', SETTLED_SHIPMENTS)
        .first('o.id')
    if (await paidOpen('o.buyer_id')) reasons.push('paid_order')
    if (await paidOpen('s.seller_id')) reasons.push('sale')
    if (await payoutInFlight(db, userId)) reasons.push('payout')
    const dispute = await db('disputes')
      .where('status', 'open')
      .andWhere((q) => q.where('buyer_id', userId).orWhere('seller_id', userId))
      .first('id')
    if (dispute) reasons.push('dispute')
    return reasons
  }

  /** Cancels the caller's unpaid checkouts as the buyer's cancel does: reservations and coupon uses let go. */
  async function cancelUnpaidCheckouts(tx: TxCtx, userId: string): Promise<string[]> {
    const pending = await tx
      .db('orders')
      .where({ buyer_id: userId, payment_status: 'pending' })
      .whereNull('cancelled_at')
      .orderBy('id')
      .pluck('id')
    const cancelled: string[] = []
    for (const orderId of pending) {
      // Re-read under the lock: a payment confirmed meanwhile makes it a paid order (then refused).
      const order = await lockOrder(tx.db, orderId)
      if (!order || order.payment_status !== 'pending' || order.cancelled_at) continue
      await cancelShipments(tx.db, orderId, userId, 'Cancelled: the buyer deleted their account')
      await tx
        .db('orders')
        .where('id', orderId)
        .update({ cancelled_at: tx.db.fn.now(), cancel_reason: 'account_deleted', updated_at: tx.db.fn.now() })
      await releaseHolds(tx.db, orderId)
      await setPaymentStatus(tx, order, 'expired', { action: 'order.cancelled', after: { refundId: null } })
      await expirePayment(tx.db, orderId)
      cancelled.push(orderId)
    }
    return cancelled
  }

  return {
    /** Sets a new password; every other session of the account ends (the caller's stays). */
    async changePassword(
      ctx: ActorCtx,
      input: { currentPassword: string; newPassword: string },
      ip: string,
    ): Promise<void> {
      await checkPassword(ctx, input.currentPassword, ip)
      const passwordHash = await passwords.hash(input.newPassword)
      const ended = await spine.transaction(ctx, async (tx) => {
        await tx.db('users').where('id', ctx.actor.id).forNoKeyUpdate().first('id')
        await tx
          .db('users')
          .where('id', ctx.actor.id)
          .update({ password_hash: passwordHash, updated_at: tx.db.fn.now() })
        // A reset link mailed before the change must not undo it.
        await tx
          .db('user_tokens')
          .where({ user_id: ctx.actor.id, purpose: 'reset_password' })
          .whereNull('used_at')
          .update({ used_at: tx.db.fn.now() })
        const rows = await tx
          .db('sessions')
          .where('user_id', ctx.actor.id)
          .whereNot('id', ctx.actor.sessionId)
          .whereNull('revoked_at')
          .update({ revoked_at: tx.db.fn.now(), revoked_reason: 'password_changed' })
          .returning('id')
        return rows.map((r) => r.id)
      })
      for (const sessionId of ended)
        spine.disconnect(ctx, { userId: ctx.actor.id, sessionId, reason: 'password_changed' })
    },

    /**
     * Mails a link to the new address; the email switches only when that link is used (the
     * old address keeps working until then). A newer request spends the links of older ones.
     */
    async requestEmailChange(ctx: ActorCtx, input: { newEmail: string; password: string }, ip: string) {
      const user = await checkPassword(ctx, input.password, ip)
      const newEmail = normEmail(input.newEmail)
      if (newEmail === normEmail(user.email)) throw AccountErrors.emailUnchanged()
      await spine.transaction(ctx, async (tx) => {
        await tx.db('users').where('id', ctx.actor.id).forNoKeyUpdate().first('id')
        const taken = await tx.db('users').whereRaw('lower(email) = ?', [newEmail]).first('id')
        if (taken) throw AccountErrors.emailTaken()
        await tx
          .db('user_tokens')
          .where({ user_id: ctx.actor.id, purpose: 'verify_email' })
          .whereNotNull('new_email')
          .whereNull('used_at')
          .update({ used_at: tx.db.fn.now() })
        const token = randomBytes(32).toString('base64url')
        await tx.db('user_tokens').insert({
          user_id: ctx.actor.id,
          purpose: 'verify_email',
          token_hash: sha256(token),
          new_email: newEmail,
          expires_at: new Date(Date.now() + 48 * 3_600_000),
        })
        await enqueueMail(tx.db, {
          to: newEmail,
          subject: 'Confirm your new email for Oja',
          text:
            `Hello ${user.name},\n\nConfirm this as the new email address of your Oja account: ` +
            `${config.appLinkBase}/verify-email?token=${token}\n\nThe link works once and expires in 48 hours. ` +
            'Until then your account keeps its current address. If you did not ask for this, ignore this mail.',
        })
      })
      deps.mailQueued()
    },

    /** The account's live sessions, most recently used first; `current` marks the caller's. */
    async listSessions(ctx: ActorCtx): Promise<{ items: SessionView[] }> {
      const rows = await ctx
        .db('sessions')
        .where('user_id', ctx.actor.id)
        .whereNull('revoked_at')
        .andWhere('expires_at', '>', ctx.db.fn.now())
        .orderBy([
          { column: 'last_used_at', order: 'desc' },
          { column: 'id', order: 'desc' },
        ])
        .select('id', 'created_at', 'last_used_at', 'user_agent')
      return {
        items: rows.map((s) => ({
          id: s.id,
          createdAt: s.created_at.toISOString(),
          lastUsedAt: s.last_used_at.toISOString(),
          ...(s.user_agent ? { userAgent: s.user_agent } : {}),
          current: s.id === ctx.actor.sessionId,
        })),
      }
    },

    /** Ends one of the caller's live sessions (the current one too: that is a sign-out). */
    async endSession(ctx: ActorCtx, sessionId: string): Promise<void> {
      const rows = await ctx
        .db('sessions')
        .where({ id: sessionId, user_id: ctx.actor.id })
        .whereNull('revoked_at')
        .andWhere('expires_at', '>', ctx.db.fn.now())
        .update({ revoked_at: ctx.db.fn.now(), revoked_reason: 'ended_by_user' })
        .returning('id')
      if (rows.length === 0) throw Errors.notFound('Session')
      spine.disconnect(ctx, { userId: ctx.actor.id, sessionId, reason: 'ended_by_user' })
    },

    /** Everything Oja holds about the caller, read in one snapshot (a repeatable-read transaction). */
    async exportAccount(ctx: ActorCtx): Promise<AccountExport> {
      const id = ctx.actor.id
      return (ctx.db as Knex).transaction(
        async (db) => {
          const user = await db('users').where('id', id).first()
          if (!user) throw Errors.notFound('User')
          const truncated: string[] = []
          // Up to EXPORT_SECTION_LIMIT rows of a section; a section with more is named in `truncated`.
          const section = async (name: string, query: Knex.QueryBuilder) => {
            const rows = (await query.limit(EXPORT_SECTION_LIMIT + 1)) as Record<string, unknown>[]
            if (rows.length <= EXPORT_SECTION_LIMIT) return rows
            truncated.push(name)
            return rows.slice(0, EXPORT_SECTION_LIMIT)
          }
          const addresses = await section(
            'addresses',
            db('addresses')
              .where('user_id', id)
              .orderBy(['created_at', 'id'])
              .select(
                'id',
                'full_name',
                'phone',
                'line1',
                'line2',
                'city',
                'state',
                'country',
                'postal_code',
                'is_default',
                'created_at',
              ),
          )
          const listings = await section(
            'listings',
            db('listings')
              .where('seller_id', id)
              .orderBy(['created_at', 'id'])
              .select(
                'id',
                'title',
                'description',
                'type',
                'price',
                'currency',
                'condition',
                'category_id',
                'quantity',
                'sold_quantity',
                'status',
                'city',
                'state',
                'lat',
                'lng',
                'removed_reason',
                'published_at',
                'created_at',
                'updated_at',
                db.raw(
                  "coalesce((select json_agg(i.variants->'large'->>'url' order by i.position) from listing_images i where i.listing_id = listings.id), '[]') as image_urls",
                ),
              ),
          )
          const wants = await section(
            'wants',
            db('wants')
              .where('user_id', id)
              .orderBy(['created_at', 'id'])
              .select(
                'id',
                'title',
                'description',
                'category_id',
                'max_price',
                'currency',
                'city',
                'state',
                'lat',
                'lng',
                'status',
                'closed_at',
                'created_at',
                'updated_at',
              ),
          )
          const wishlist = await section(
            'wishlist',
            db('wishlists as w')
              .join('listings as l', 'l.id', 'w.listing_id')
              .where('w.user_id', id)
              .orderBy(['w.created_at', 'w.listing_id'])
              .select('w.listing_id', 'l.title', 'w.created_at'),
          )
          const orders = await section(
            'orders',
            db('orders as o')
              .where('o.buyer_id', id)
              .orderBy(['o.created_at', 'o.id'])
              .select(
                'o.id',
                'o.payment_status',
                'o.subtotal',
                'o.discount',
                'o.total',
                'o.refunded_amount',
                'o.currency',
                'o.coupon_code',
                'o.shipping_address',
                'o.paid_at',
                'o.cancelled_at',
                'o.created_at',
                db.raw(
                  `coalesce((select json_agg(json_build_object('listingId', i.listing_id, 'sellerId', i.seller_id, 'title', i.title,
                     'unitPrice', i.unit_price, 'quantity', i.quantity) order by i.created_at, i.id)
                     from order_items i where i.order_id = o.id), '[]') as items`,
                ),
                db.raw(
                  `coalesce((select json_agg(json_build_object('id', s.id, 'sellerId', s.seller_id, 'status', s.status,
                     'trackingNumber', s.tracking_number, 'carrier', s.carrier) order by s.created_at, s.id)
                     from shipments s where s.order_id = o.id), '[]') as shipments`,
                ),
              ),
          )
          const sales = await section(
            'sales',
            db('shipments as s')
              .join('orders as o', 'o.id', 's.order_id')
              .where('s.seller_id', id)
              .orderBy(['s.created_at', 's.id'])
              .select(
                's.id',
                's.order_id',
                's.status',
                'o.payment_status',
                's.tracking_number',
                's.carrier',
                's.sent_at',
                's.delivered_at',
                's.received_at',
                's.cancelled_at',
                's.created_at',
                db.raw(
                  `coalesce((select json_agg(json_build_object('listingId', i.listing_id, 'title', i.title,
                     'unitPrice', i.unit_price, 'quantity', i.quantity) order by i.created_at, i.id)
                     from order_items i where i.shipment_id = s.id), '[]') as items`,
                ),
              ),
          )
          const messages = await section(
            'messages',
            db('messages as m')
              .join('conversations as c', 'c.id', 'm.conversation_id')
              .where((q) => q.where('c.buyer_id', id).orWhere('c.seller_id', id))
              .orderBy([
                { column: 'm.created_at', order: 'asc' },
                { column: 'm.id', order: 'asc' },
              ])
              .select('m.id', 'm.conversation_id', 'm.sender_id', 'm.kind', 'm.body', 'm.offer_id', 'm.created_at'),
          )
          const reviewColumns = [
            'id',
            'shipment_id',
            'order_id',
            'buyer_id',
            'seller_id',
            'rating',
            'body',
            'status',
            'reply_body',
            'replied_at',
            'created_at',
          ]
          const reviewsWritten = await section(
            'reviewsWritten',
            db('reviews').where('buyer_id', id).orderBy(['created_at', 'id']).select(reviewColumns),
          )
          const reviewsReceived = await section(
            'reviewsReceived',
            db('reviews').where('seller_id', id).orderBy(['created_at', 'id']).select(reviewColumns),
          )
          const notifications = await section(
            'notifications',
            db('notifications')
              .where('user_id', id)
              .orderBy(['created_at', 'id'])
              .select('id', 'type', 'data', 'read_at', 'created_at'),
          )
          return {
            exportedAt: new Date().toISOString(),
            profile: {
              id: user.id,
              email: user.email,
              name: user.name,
              role: user.role as 'user' | 'admin',
              emailVerified: user.email_verified_at !== null,
              bio: user.bio,
              location: user.location,
              avatarUrl: user.avatar_url,
              createdAt: user.created_at.toISOString(),
            },
            addresses: addresses.map(camel),
            listings: listings.map(camel),
            wants: wants.map(camel),
            wishlist: wishlist.map(camel),
            orders: orders.map(camel),
            sales: sales.map(camel),
            messages: messages.map(camel),
            reviews: { written: reviewsWritten.map(camel), received: reviewsReceived.map(camel) },
            notifications: notifications.map(camel),
            limits: { perSection: EXPORT_SECTION_LIMIT },
            truncated,
          }
        },
        { isolationLevel: 'repeatable read', readOnly: true },
      )
    },

    /**
     * Erases the caller's account in one transaction, or refuses with 409
     * ACCOUNT_HAS_OPEN_TRADES (nothing changes). See the README for what is erased and kept.
     */
    async deleteAccount(ctx: ActorCtx, input: { password: string }, ip: string): Promise<void> {
      await checkPassword(ctx, input.password, ip)
      const userId = ctx.actor.id
      const sessions = await spine.transaction(ctx, async (tx) => {
        // NO KEY UPDATE, not UPDATE: rows that merely reference the user (a payment's
        // notification, a ledger entry) take KEY SHARE locks on it and must not wait for us
        // while we wait for their order's lock (a deadlock, seen in the payment race test).
        const user = await tx.db('users').where('id', userId).forNoKeyUpdate().first()
        if (!user || user.deleted_at) throw Errors.unauthenticated()
        // Unpaid checkouts first, under their locks: one paid meanwhile is then seen as paid below.
        const cancelledOrders = await cancelUnpaidCheckouts(tx, userId)
        const reasons = await openTrades(tx.db, userId)
        if (reasons.length > 0) throw AccountErrors.openTrades(reasons)

        const listingIds = await tx
          .db('listings')
          .where('seller_id', userId)
          .whereNot('status', 'removed')
          .orderBy('id')
          .pluck('id')
        for (const listingId of listingIds) await deps.removeListing({ ...tx, actor: ctx.actor }, listingId)

        await tx
          .db('users')
          .where('id', userId)
          .update({
            // A unique, undeliverable placeholder: the real address is free for a new account.
            email: `deleted-${userId}@deleted.invalid`,
            // No argon2 hash verifies against this: sign-in answers as for an unknown email.
            password_hash: '!erased',
            name: ERASED_NAME,
            bio: null,
            location: null,
            avatar_url: null,
            email_verified_at: null,
            deleted_at: tx.db.fn.now(),
            updated_at: tx.db.fn.now(),
          })
        await tx
          .db('messages')
          .where('sender_id', userId)
          .whereNot('body', ERASED_MESSAGE)
          .update({ body: ERASED_MESSAGE })
        // Kept orders keep the city and country of delivery, not who received it or where exactly.
        await tx.db.raw(
          `update orders set shipping_address = shipping_address
              || jsonb_build_object('fullName', ?::text, 'phone', '', 'line1', '', 'line2', null, 'postalCode', null)
            where buyer_id = ? and shipping_address is not null`,
          [ERASED_NAME, userId],
        )
        await tx
          .db('wants')
          .where({ user_id: userId, status: 'open' })
          .update({ status: 'closed', closed_at: tx.db.fn.now(), updated_at: tx.db.fn.now() })
        for (const table of [
          'addresses',
          'push_devices',
          'push_outbox',
          'user_tokens',
          'wishlists',
          'cart_items',
          'carts',
          'notifications',
          'notification_preferences',
          // The account's own event stream (message copies) and stored answers (a checkout's address).
          'user_events',
          'idempotency_keys',
        ] as const)
          await tx.db(table).where('user_id', userId).delete()
        await tx.db('payout_accounts').where('seller_id', userId).delete()
        await tx.db('blocks').where('blocker_id', userId).orWhere('blocked_id', userId).delete()
        const ended = await tx
          .db('sessions')
          .where('user_id', userId)
          .whereNull('revoked_at')
          .update({ revoked_at: tx.db.fn.now(), revoked_reason: 'account_deleted' })
          .returning('id')
        await audit(tx, {
          action: 'account.deleted',
          targetType: 'user',
          targetId: userId,
          after: { listingsRemoved: listingIds.length, ordersCancelled: cancelledOrders, sessionsEnded: ended.length },
        })
        return ended.map((s) => s.id)
      })
      for (const sessionId of sessions) spine.disconnect(ctx, { userId, sessionId, reason: 'account_deleted' })
    },
  }
}

export type LifecycleService = ReturnType<typeof createLifecycleService>

/** A row with camelCase keys and ISO times, for the export. */
function camel(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(row))
    out[k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = v instanceof Date ? v.toISOString() : v
  return out
}
