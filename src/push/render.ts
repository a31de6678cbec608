import type { Db, Knex } from '../db/index.js'

/**
 * What a push says: words for the person, `data` for the app to open the right screen, and
 * what the worker checks before sending (the conversation it is about, for mutes; the other
 * person, for blocks). Built when the push is sent, from the stored event and today's rows.
 */
export type RenderedPush = {
  title: string
  body: string
  data: Record<string, string>
  collapseKey?: string
  conversationId?: string
  peerId?: string
}

/** The money of a push: kobo as naira with thousands separators, kobo only when there are some (₦75,000, ₦1,250.50). */
export function formatMoney(amount: number, currency = 'NGN'): string {
  const major = amount / 100
  const digits = Number.isInteger(major) ? 0 : 2
  const figure = major.toLocaleString('en-NG', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  return currency === 'NGN' ? `₦${figure}` : `${currency} ${figure}`
}

/** Cuts text for a notification's line (white space folded), with an ellipsis when cut. */
export function truncate(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= max) return flat
  return `${[...flat].slice(0, max - 1).join('')}…`
}

const ID_KEYS = /Id$/
/** The ids and statuses of a notification's data, as strings (FCM data is string to string). */
function dataOf(type: string, source: Record<string, unknown>, extra: Record<string, string | undefined> = {}) {
  const data: Record<string, string> = { type }
  for (const [key, value] of Object.entries(source)) {
    if ((ID_KEYS.test(key) || key === 'status' || key === 'paymentStatus' || key === 'outcome') && value != null)
      data[key] = String(value)
  }
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) data[key] = value
  return data
}

async function one<T>(db: Db, sql: string, bindings: Knex.ValueDict): Promise<T | undefined> {
  const { rows } = await db.raw<{ rows: T[] }>(sql, bindings)
  return rows[0]
}

type Message = {
  id: string
  conversationId: string
  senderId: string | null
  kind: string
  body: string
  offer?: { id: string; status: string }
}

async function chatMessage(db: Db, message: Message): Promise<RenderedPush | null> {
  const row = await one<{ sender: string | null; subject: string | null; listing_id: string | null }>(
    db,
    `select u.name as sender, coalesce(l.title, w.title) as subject, c.listing_id
       from conversations c
       left join users u on u.id = :senderId
       left join listings l on l.id = c.listing_id
       left join wants w on w.id = c.want_id
      where c.id = :conversationId`,
    { senderId: message.senderId, conversationId: message.conversationId },
  )
  if (!row) return null
  return {
    title: row.subject ? truncate(row.subject, 60) : 'New message',
    // A photo message's body is its caption, often empty.
    body: truncate(
      `${row.sender ?? 'Someone'}: ${message.kind === 'image' ? `📷 ${message.body || 'Photo'}` : message.body}`,
    ),
    data: dataOf('message', {
      conversationId: message.conversationId,
      messageId: message.id,
      listingId: row.listing_id,
    }),
    collapseKey: message.conversationId,
    conversationId: message.conversationId,
    ...(message.senderId ? { peerId: message.senderId } : {}),
  }
}

const OFFER_OUTCOMES: Record<string, string> = {
  accepted: 'Offer accepted',
  declined: 'Offer declined',
  withdrawn: 'Offer withdrawn',
  expired: 'Offer expired',
  countered: 'Offer countered',
}

async function offer(db: Db, recipient: string, offerId: string, status: string): Promise<RenderedPush | null> {
  const row = await one<{
    conversation_id: string
    listing_id: string
    buyer_id: string
    seller_id: string
    amount: number
    quantity: number
    currency: string
    parent_offer_id: string | null
    title: string
    maker: string
  }>(
    db,
    `select o.conversation_id, o.listing_id, o.buyer_id, o.seller_id, o.amount, o.quantity, o.currency, o.parent_offer_id,
            l.title, u.name as maker
       from offers o join listings l on l.id = o.listing_id join users u on u.id = o.created_by
      where o.id = :offerId`,
    { offerId },
  )
  if (!row) return null
  const price = `${formatMoney(row.amount, row.currency)}${row.quantity > 1 ? ` each for ${row.quantity}` : ''}`
  const body =
    status === 'pending'
      ? `${row.maker} ${row.parent_offer_id ? 'countered' : 'offered'}: ${price}`
      : `${OFFER_OUTCOMES[status] ?? `Offer ${status}`}: ${price}`
  return {
    title: truncate(row.title, 60),
    body: truncate(body),
    data: dataOf('offer', { offerId, status, conversationId: row.conversation_id, listingId: row.listing_id }),
    collapseKey: row.conversation_id,
    conversationId: row.conversation_id,
    peerId: recipient === row.buyer_id ? row.seller_id : row.buyer_id,
  }
}

const SHIPMENT_PHRASES: Record<string, string> = {
  sent: 'is on its way',
  en_route: 'is out for delivery',
  delivered: 'was delivered',
  received: 'was received by the buyer',
  cancelled: 'was cancelled',
}

const PAYMENT_PHRASES: Record<string, [buyer: string, seller: string]> = {
  paid: ['Payment received', 'New sale: ship it'],
  refunded: ['Refunded', 'Order refunded'],
  partially_refunded: ['Partly refunded', 'Order partly refunded'],
  failed: ['Payment failed', 'Payment failed'],
  expired: ['Checkout expired', 'Checkout expired'],
  pending: ['Waiting for payment', 'Waiting for payment'],
}

async function orderStatus(db: Db, recipient: string, d: Record<string, unknown>): Promise<RenderedPush | null> {
  const orderId = String(d.orderId)
  const shipmentId = typeof d.shipmentId === 'string' ? d.shipmentId : null
  const order = await one<{ buyer_id: string }>(db, 'select buyer_id from orders where id = :orderId', { orderId })
  if (!order) return null
  const seller = order.buyer_id !== recipient
  // What the recipient knows the order by: its (their) lines' titles, and what they come to.
  const lines = await one<{ first: string | null; count: number; amount: number; currency: string | null }>(
    db,
    `select min(title) as first, count(*)::int as count, coalesce(sum(unit_price * quantity), 0)::bigint as amount, min(currency) as currency
       from order_items
      where order_id = :orderId
        and (:shipmentId::uuid is null or shipment_id = :shipmentId::uuid)
        and (not :seller or seller_id = :recipient)`,
    { orderId, shipmentId, seller, recipient },
  )
  const label = lines?.first
    ? `${truncate(lines.first, 60)}${lines.count > 1 ? ` and ${lines.count - 1} more` : ''}`
    : 'Your order'
  const status = typeof d.status === 'string' ? d.status : null
  const payment = String(d.paymentStatus ?? '')
  let title: string
  let body: string
  if (status) {
    title = seller ? 'Your sale' : 'Your order'
    body = `${label} ${SHIPMENT_PHRASES[status] ?? `is ${status.replace(/_/g, ' ')}`}`
  } else {
    const phrase = PAYMENT_PHRASES[payment]
    title = phrase ? phrase[seller ? 1 : 0] : 'Order update'
    body = lines?.amount ? `${label}: ${formatMoney(lines.amount, lines.currency ?? 'NGN')}` : label
  }
  return { title, body: truncate(body), data: dataOf('order_status', d) }
}

async function listingTitle(db: Db, listingId: unknown) {
  return one<{ title: string; price: number; currency: string }>(
    db,
    'select title, price, currency from listings where id = :listingId',
    { listingId: String(listingId) },
  )
}

const PAYOUT_PHRASES: Record<string, string> = {
  pending: 'Payout waiting',
  processing: 'Payout on its way',
  paid: 'Payout paid',
  failed: 'Payout failed: the money is back in your balance',
  reversed: 'Payout reversed: the money is back in your balance',
}

const money = (d: Record<string, unknown>, key = 'amount') =>
  typeof d[key] === 'number' ? formatMoney(d[key], typeof d.currency === 'string' ? d.currency : 'NGN') : ''

/** A notification's push, by its type (`message` notifications are pushed as their message). */
async function notification(
  db: Db,
  recipient: string,
  type: string,
  notificationId: string,
  d: Record<string, unknown>,
): Promise<RenderedPush | null> {
  const plain = (title: string, body: string, extra: Partial<RenderedPush> = {}): RenderedPush => ({
    title: truncate(title, 60),
    body: truncate(body),
    data: dataOf(type, d, { notificationId }),
    ...extra,
  })
  switch (type) {
    case 'offer':
      return offer(db, recipient, String(d.offerId), String(d.status))
    case 'order_status': {
      const pushed = await orderStatus(db, recipient, d)
      return pushed && { ...pushed, data: { ...pushed.data, notificationId } }
    }
    case 'price_drop': {
      const listing = await listingTitle(db, d.listingId)
      if (!listing) return null
      return plain(listing.title, `Price drop: ${truncate(listing.title, 60)} now ${money(d, 'newPrice')}`)
    }
    case 'want_match': {
      const listing = await listingTitle(db, d.listingId)
      const want = await one<{ title: string }>(db, 'select title from wants where id = :wantId', {
        wantId: String(d.wantId),
      })
      if (!listing) return null
      return plain(
        want ? `Your want: ${want.title}` : 'A match for your want',
        `New match: ${truncate(listing.title, 60)} for ${formatMoney(listing.price, listing.currency)}`,
      )
    }
    case 'want_response': {
      const row = await one<{ seller: string; seller_id: string; want: string | null; listing: string | null }>(
        db,
        `select u.name as seller, c.seller_id, w.title as want, l.title as listing
           from conversations c join users u on u.id = c.seller_id
           left join wants w on w.id = :wantId left join listings l on l.id = :listingId
          where c.id = :conversationId`,
        { conversationId: String(d.conversationId), wantId: String(d.wantId), listingId: String(d.listingId) },
      )
      if (!row) return null
      return plain(
        row.want ? `Your want: ${row.want}` : 'Your want',
        `${row.seller} answered${row.listing ? ` with ${truncate(row.listing, 60)}` : ''}`,
        { collapseKey: String(d.conversationId), conversationId: String(d.conversationId), peerId: row.seller_id },
      )
    }
    case 'review':
      return plain('New review', `You got a ${String(d.rating)}-star review`)
    case 'listing_removed': {
      const listing = await listingTitle(db, d.listingId)
      return plain(
        listing?.title ?? 'Your listing',
        `Removed by a moderator${typeof d.reason === 'string' && d.reason ? `: ${d.reason}` : ''}`,
      )
    }
    case 'funds_released':
      return plain('Funds released', `${money(d)} is now available to withdraw`)
    case 'payout': {
      const phrase = PAYOUT_PHRASES[String(d.status)] ?? `Payout ${String(d.status)}`
      return plain('Payout', `${phrase}: ${money(d)}`.replace(/: $/, ''))
    }
    case 'dispute':
      return plain(
        'Dispute',
        d.messageId
          ? 'New message in a dispute'
          : d.status === 'resolved'
            ? `Dispute resolved${typeof d.outcome === 'string' ? `: ${d.outcome}` : ''}`
            : 'A dispute was opened on an order',
      )
    // Admins' work.
    case 'payment_unsettled':
      return plain('Admin: payment unsettled', `${String(d.kind ?? 'payment')}: ${String(d.reference ?? '')}`)
    case 'refund_failed':
      return plain('Admin: refund failed', `Refund failed: ${money(d)}`)
    case 'refund_adjusted':
      return plain('Admin: refund adjusted', `Refund adjusted: ${money(d, 'previousAmount')} → ${money(d)}`)
    case 'payout_pending':
      return plain('Admin: payout waiting', `Payout waiting for Paystack balance: ${money(d)}`)
    case 'payout_otp':
      return plain('Admin: payout needs an OTP', `Transfer OTP asked for a payout of ${money(d)}`)
    case 'ledger_mismatch':
      return plain('Admin: ledger check', `Ledger check found ${String(d.count)} difference(s)`)
    case 'review_flagged':
      return plain('Admin: review flagged', `Review flagged: ${String(d.reason ?? '')}`)
    case 'listing_reported':
      return plain('Admin: listing reported', `Listing reported: ${String(d.reason ?? '')}`)
    default:
      return plain('Oja', 'You have a new notification')
  }
}

/**
 * The push of an outbox row (`kind` and the event's data as stored), for `recipient`; null
 * when what it is about no longer exists.
 */
export async function renderPush(
  db: Db,
  recipient: string,
  row: { kind: string; notification_id: string | null; source: unknown },
): Promise<RenderedPush | null> {
  const source = (row.source ?? {}) as Record<string, unknown>
  if (row.notification_id) {
    const d = (source.data ?? {}) as Record<string, unknown>
    return notification(db, recipient, row.kind, row.notification_id, d)
  }
  const message = source as Message
  if (row.kind === 'offer' && message.offer) {
    return offer(db, recipient, message.offer.id, message.offer.status)
  }
  return chatMessage(db, message)
}
