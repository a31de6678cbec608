import type { Db } from '../db/index.js'
import type { Conversation, Message, Offer } from './chat.schemas.js'
import type { MessageImageRow, MessageRow, OfferRow } from './chat.tables.js'

export type { ConversationRow, MessageRow, OfferRow } from './chat.tables.js'

/** API shapes of the chat's rows. */

const iso = (d: Date | null) => (d ? d.toISOString() : null)

export function toOffer(r: OfferRow): Offer {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    listingId: r.listing_id,
    buyerId: r.buyer_id,
    sellerId: r.seller_id,
    amount: r.amount,
    quantity: r.quantity,
    currency: r.currency,
    status: r.status,
    createdBy: r.created_by,
    parentOfferId: r.parent_offer_id,
    expiresAt: iso(r.expires_at),
    respondedAt: iso(r.responded_at),
    createdAt: r.created_at.toISOString(),
  }
}

const toMessageImage = (img: MessageImageRow) => ({
  id: img.id,
  url: img.urls.large,
  variants: { thumb: img.urls.thumb, medium: img.urls.medium, large: img.urls.large },
  width: img.width,
  height: img.height,
})

export function toMessage(r: MessageRow, offer: OfferRow | undefined, readAt: Date | null): Message {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    senderId: r.sender_id,
    kind: r.kind,
    body: r.body,
    ...(offer ? { offer: toOffer(offer) } : {}),
    ...(r.image ? { image: toMessageImage(r.image) } : {}),
    clientId: r.client_id,
    createdAt: r.created_at.toISOString(),
    readAt: iso(readAt),
  }
}

/** Messages sort by (created_at, id); created_at is strictly increasing within a conversation. */
export const messageKeyBefore = (a: { created_at: Date; id: string }, b: { created_at: Date; id: string }) =>
  a.created_at.getTime() < b.created_at.getTime() || (a.created_at.getTime() === b.created_at.getTime() && a.id <= b.id)

/**
 * Turns message rows into API messages: embeds each offer's current state and `readAt`
 * (when the recipient's read pointer covers the message). Two queries whatever the count.
 */
export async function hydrateMessages(
  db: Db,
  rows: MessageRow[],
  parties: Map<string, { buyer_id: string; seller_id: string }>,
): Promise<Message[]> {
  if (rows.length === 0) return []
  const offerIds = [...new Set(rows.map((r) => r.offer_id).filter((id): id is string => id !== null))]
  const conversationIds = [...new Set(rows.map((r) => r.conversation_id))]
  const [offers, reads] = await Promise.all([
    offerIds.length ? db('offers').whereIn('id', offerIds).select('*') : Promise.resolve<OfferRow[]>([]),
    db('conversation_reads').whereIn('conversation_id', conversationIds).select('*'),
  ])
  const offerById = new Map(offers.map((o) => [o.id, o]))
  const readOf = new Map(reads.map((r) => [`${r.conversation_id}:${r.user_id}`, r]))
  return rows.map((m) => {
    const party = parties.get(m.conversation_id)
    let readAt: Date | null = null
    if (party && m.sender_id) {
      const recipient = m.sender_id === party.buyer_id ? party.seller_id : party.buyer_id
      const pointer = readOf.get(`${m.conversation_id}:${recipient}`)
      if (pointer && messageKeyBefore(m, { created_at: pointer.message_created_at, id: pointer.message_id }))
        readAt = pointer.read_at
    }
    return toMessage(m, m.offer_id ? offerById.get(m.offer_id) : undefined, readAt)
  })
}

export type { Conversation }
