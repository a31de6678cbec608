import type { OjaApp } from '../../src/app.js'
import { call, type Json } from '../helpers/app.js'
import { aListing, type ListingRow } from './listings.js'
import { aUser, type SignedInUser } from './users.js'

export type ChatPair = { buyer: SignedInUser; seller: SignedInUser; listing: ListingRow; conversation: Json }

/** A seller with an active listing, a buyer, and the conversation the buyer opened about it. */
export async function aConversation(
  app: OjaApp,
  opts: {
    buyer?: SignedInUser
    seller?: SignedInUser
    listing?: Partial<Record<string, unknown>>
    message?: string
  } = {},
): Promise<ChatPair> {
  const [buyer, seller] = await Promise.all([
    opts.buyer ?? aUser(app, { name: 'Buyer' }),
    opts.seller ?? aUser(app, { name: 'Seller' }),
  ])
  const listing = await aListing(app.db, seller.id, opts.listing)
  const res = await call(app, 'POST', '/v1/conversations', {
    token: buyer.accessToken,
    body: { listingId: listing.id, ...(opts.message ? { message: opts.message } : {}) },
  })
  if (res.statusCode !== 201) throw new Error(`open conversation failed: ${res.statusCode} ${res.body}`)
  return { buyer, seller, listing, conversation: res.json }
}

/** Sends a message over REST and returns it. */
export async function aMessage(
  app: OjaApp,
  user: SignedInUser,
  conversationId: string,
  body = 'Is it still available?',
  clientId?: string,
): Promise<Json> {
  const res = await call(app, 'POST', `/v1/conversations/${conversationId}/messages`, {
    token: user.accessToken,
    body: { body, ...(clientId ? { clientId } : {}) },
  })
  if (res.statusCode !== 201) throw new Error(`send failed: ${res.statusCode} ${res.body}`)
  return res.json
}

/** The buyer offers an amount (kobo) in the conversation; returns the offer. */
export async function anOffer(app: OjaApp, buyer: SignedInUser, conversationId: string, amount: number): Promise<Json> {
  const res = await call(app, 'POST', `/v1/conversations/${conversationId}/offers`, {
    token: buyer.accessToken,
    body: { amount },
  })
  if (res.statusCode !== 201) throw new Error(`offer failed: ${res.statusCode} ${res.body}`)
  return res.json
}
