import type { Table } from '../db/index.js'
import type { StoredVariant, VariantName } from '../images/index.js'
import type { Offer } from './chat.schemas.js'

/** A conversation between a buyer and a seller, about a listing or a want. */
export type ConversationRow = {
  id: string
  listing_id: string | null
  want_id: string | null
  buyer_id: string
  seller_id: string
  last_message_at: Date | null
  last_activity_at: Date
  created_at: Date
}

/**
 * A photo message's image (messages.image): its private files in the blob store and the Oja
 * URLs participants load them from (the files themselves have no public URL).
 */
export type MessageImageRow = {
  id: string
  width: number
  height: number
  variants: Record<VariantName, StoredVariant>
  urls: Record<VariantName, string>
}

export type MessageRow = {
  id: string
  conversation_id: string
  sender_id: string | null
  kind: 'text' | 'offer' | 'system' | 'image'
  /** The text; for a photo, its caption (may be empty). */
  body: string
  offer_id: string | null
  /** Present exactly when kind is `image`. */
  image: MessageImageRow | null
  client_id: string | null
  created_at: Date
}

export type OfferRow = {
  id: string
  conversation_id: string
  listing_id: string
  buyer_id: string
  seller_id: string
  created_by: string
  parent_offer_id: string | null
  amount: number
  /** The units the offer is for; its amount is the price of each. */
  quantity: number
  currency: string
  status: Offer['status']
  expires_at: Date | null
  responded_at: Date | null
  created_at: Date
}

/** A participant's read pointer in a conversation (unread counts and read receipts). */
export type ConversationReadRow = {
  conversation_id: string
  user_id: string
  message_id: string
  message_created_at: Date
  read_at: Date
}

/** A participant's mute of a conversation: no push (and no unread digest) for it. */
export type ConversationMuteRow = {
  user_id: string
  conversation_id: string
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    conversations: Table<
      ConversationRow,
      'id' | 'listing_id' | 'want_id' | 'last_message_at' | 'last_activity_at' | 'created_at'
    >
    messages: Table<MessageRow, 'id' | 'sender_id' | 'kind' | 'offer_id' | 'image' | 'client_id' | 'created_at'>
    offers: Table<
      OfferRow,
      'id' | 'parent_offer_id' | 'quantity' | 'currency' | 'status' | 'expires_at' | 'responded_at' | 'created_at'
    >
    conversation_reads: Table<ConversationReadRow, 'read_at'>
    conversation_mutes: Table<ConversationMuteRow, 'created_at'>
  }
}
