import type { FastifyBaseLogger } from 'fastify'
import { AccountErrors, isBlockedEitherWay } from '../accounts/index.js'
import type { Db, Knex, SqlValue } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import type { StoredEvent } from '../events/index.js'
import type { TxCtx } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import {
  ListingErrors,
  findListing,
  isListingOnSale,
  isListingVisibleTo,
  isListingWithdrawn,
  type ListingRecord,
} from '../listings/index.js'
import { ChatErrors } from './chat.errors.js'
import { hydrateMessages, toOffer, type ConversationRow, type OfferRow } from './chat.model.js'
import type { Offer } from './chat.schemas.js'
import { insertMessage, participantConversation, type ActorCtx } from './chat.service.js'
import type { SendLimiter } from './send-limiter.js'

/** How long an accepted offer holds its price for the buyer. */
export const ACCEPTED_OFFER_HOLD_HOURS = 48

const naira = (kobo: number) =>
  `₦${(kobo / 100).toLocaleString('en-NG', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

/** What an offer needs of its listing. */
type OfferedListing = Pick<
  ListingRecord,
  'id' | 'seller_id' | 'status' | 'seller_banned' | 'type' | 'currency' | 'quantity' | 'sold_quantity'
>

/**
 * Offers: structured negotiation inside a conversation.
 *
 *   pending ──accept──▶ accepted ──(48 h)──▶ expired
 *      │ ──decline──▶ declined
 *      │ ──counter──▶ countered  (+ a new pending offer from the other side)
 *      └ ──withdraw─▶ withdrawn  (its maker only)
 *
 * Only the side that did not make a pending offer may accept, decline or counter it. Every
 * change sends `offer:updated` to both sides and an `offer` notification to the other one;
 * new offers (and counters) also appear in the conversation as messages of kind `offer`.
 * Making or countering an offer is a send: it counts against the chat send limit.
 */
export function createOffersService(deps: { spine: EventSpine; sendLimiter: SendLimiter }) {
  const { spine } = deps

  async function listingFor(db: Db, listingId: string): Promise<OfferedListing> {
    const listing = await findListing(db, listingId)
    if (!listing) throw ListingErrors.listingNotFound()
    // Removed, or its seller banned: the conversation knows it, so it is "not available".
    if (isListingWithdrawn(listing)) throw ListingErrors.listingNotAvailable()
    // Offers are made by buyers, so a draft is never offered on (not even by its seller).
    if (!isListingVisibleTo(listing, null)) throw ListingErrors.listingNotFound()
    return listing
  }

  const assertOfferable = (listing: OfferedListing, quantity = 1) => {
    if (listing.type !== 'sale') throw ChatErrors.offerNotAllowed()
    if (!isListingOnSale(listing)) throw ListingErrors.listingNotAvailable()
    const left = listing.quantity - listing.sold_quantity
    if (quantity > left) throw ChatErrors.offerQuantityTooLarge(left)
  }

  async function announce(tx: TxCtx, changed: OfferRow[], notice?: { userId: string; offer: OfferRow }): Promise<void> {
    await spine.append(
      tx,
      changed.flatMap((o) => [
        { userId: o.buyer_id, event: 'offer:updated', data: toOffer(o) },
        { userId: o.seller_id, event: 'offer:updated', data: toOffer(o) },
      ]),
    )
    if (notice)
      await spine.notify(tx, [notice.userId], 'offer', { offerId: notice.offer.id, status: notice.offer.status })
  }

  /** Inserts a pending offer and its `offer` message (the conversation row is locked). */
  async function createPending(
    tx: TxCtx,
    conversation: ConversationRow,
    listing: OfferedListing,
    makerId: string,
    terms: { amount: number; quantity: number },
    parentOfferId: string | null,
  ): Promise<OfferRow> {
    const { amount, quantity } = terms
    const pending = await tx
      .db('offers')
      .where({ conversation_id: conversation.id, listing_id: listing.id, status: 'pending' })
      .first('id')
    if (pending) throw ChatErrors.offerAlreadyPending()
    const [offer] = await tx
      .db('offers')
      .insert({
        conversation_id: conversation.id,
        listing_id: listing.id,
        buyer_id: conversation.buyer_id,
        seller_id: conversation.seller_id,
        created_by: makerId,
        parent_offer_id: parentOfferId,
        amount,
        quantity,
        currency: listing.currency,
        status: 'pending',
      })
      .returning('*')
    const row = (await insertMessage(tx, conversation, {
      senderId: makerId,
      kind: 'offer',
      offerId: offer!.id,
      body: `${parentOfferId ? 'Counter-offer' : 'Offer'}: ${naira(amount)}${quantity > 1 ? ` each for ${quantity}` : ''}`,
    }))!
    const [message] = await hydrateMessages(tx.db, [row], new Map([[conversation.id, conversation]]))
    await spine.append(tx, [
      { userId: conversation.buyer_id, event: 'message:new', data: message },
      { userId: conversation.seller_id, event: 'message:new', data: message },
    ])
    return offer!
  }

  /** Locks the conversation, then the offer (always in that order: no deadlocks with sends). */
  async function lockOffer(
    tx: TxCtx,
    offerId: string,
    me: string,
  ): Promise<{ offer: OfferRow; conversation: ConversationRow }> {
    const peek = await tx.db('offers').where('id', offerId).first('conversation_id', 'buyer_id', 'seller_id')
    if (!peek || (peek.buyer_id !== me && peek.seller_id !== me)) throw ChatErrors.offerNotFound()
    const conversation = await participantConversation(tx.db, peek.conversation_id, me, { lock: true })
    const offer = (await tx.db('offers').where('id', offerId).forUpdate().first('*'))!
    return { offer, conversation }
  }

  /** Loads, locks and checks an offer the caller answers (accept, decline, counter). */
  async function answerable(tx: TxCtx, offerId: string, me: string) {
    const { offer, conversation } = await lockOffer(tx, offerId, me)
    if (offer.created_by === me) throw ChatErrors.notOfferRecipient()
    if (offer.status !== 'pending') throw ChatErrors.offerNotPending(offer.status)
    if (await isBlockedEitherWay(tx.db, offer.buyer_id, offer.seller_id)) throw AccountErrors.blocked()
    return { offer, conversation }
  }

  async function setStatus(
    tx: TxCtx,
    offerId: string,
    patch: { status: OfferRow['status']; expires_at?: SqlValue },
  ): Promise<OfferRow> {
    const [row] = await tx
      .db('offers')
      .where('id', offerId)
      .update({ ...patch, responded_at: tx.db.fn.now() })
      .returning('*')
    return row!
  }

  /** Moves accepted offers whose hold has ended to `expired`; returns them. */
  async function expireAccepted(
    tx: TxCtx,
    where: { buyerId: string; listingId: string } | { limit: number },
  ): Promise<OfferRow[]> {
    const due = tx.db('offers').where('status', 'accepted').andWhere('expires_at', '<=', tx.db.fn.now())
    // The sweeper skips rows a request holds; a request waits for the sweeper instead.
    if ('buyerId' in where) due.andWhere({ buyer_id: where.buyerId, listing_id: where.listingId }).forUpdate()
    else due.orderBy('expires_at').limit(where.limit).forUpdate().skipLocked()
    const expired = await tx.db('offers').whereIn('id', due.select('id')).update({ status: 'expired' }).returning('*')
    if (expired.length === 0) return expired
    await announce(tx, expired)
    for (const offer of expired)
      await spine.notify(tx, [offer.buyer_id], 'offer', { offerId: offer.id, status: offer.status })
    return expired
  }

  return {
    async get(ctx: ActorCtx, offerId: string): Promise<Offer> {
      const offer = await ctx.db('offers').where('id', offerId).first('*')
      if (!offer || (offer.buyer_id !== ctx.actor.id && offer.seller_id !== ctx.actor.id))
        throw ChatErrors.offerNotFound()
      return toOffer(offer)
    },

    /** The buyer offers a price on the conversation's listing (or another listing of the same seller). */
    async make(
      ctx: ActorCtx,
      conversationId: string,
      input: { listingId?: string; amount: number; quantity?: number },
    ): Promise<Offer> {
      const me = ctx.actor.id
      await deps.sendLimiter.consume(me)
      const conversation = await participantConversation(ctx.db, conversationId, me)
      if (conversation.buyer_id !== me) throw ChatErrors.onlyBuyerCanOffer()
      const listingId = input.listingId ?? conversation.listing_id
      if (!listingId)
        throw Errors.validation('Name the listing the offer is for', [
          { path: '/body/listingId', message: 'is required in a conversation about a want' },
        ])
      const listing = await listingFor(ctx.db, listingId)
      if (listing.seller_id !== conversation.seller_id) throw ChatErrors.listingNotInConversation()
      const quantity = input.quantity ?? 1
      assertOfferable(listing, quantity)
      if (await isBlockedEitherWay(ctx.db, me, conversation.seller_id)) throw AccountErrors.blocked()
      return spine.transaction(ctx, async (tx) => {
        const locked = await participantConversation(tx.db, conversationId, me, { lock: true })
        await expireAccepted(tx, { buyerId: me, listingId })
        const accepted = await tx
          .db('offers')
          .where({ buyer_id: me, listing_id: listingId, status: 'accepted' })
          .first('id')
        if (accepted) throw ChatErrors.offerAlreadyAccepted()
        const offer = await createPending(tx, locked, listing, me, { amount: input.amount, quantity }, null)
        await announce(tx, [offer], { userId: locked.seller_id, offer })
        return toOffer(offer)
      })
    },

    /** Accepts a pending offer: its price holds for the buyer for 48 hours. */
    async accept(ctx: ActorCtx, offerId: string): Promise<Offer> {
      const me = ctx.actor.id
      return spine.transaction(ctx, async (tx) => {
        const { offer } = await answerable(tx, offerId, me)
        assertOfferable(await listingFor(tx.db, offer.listing_id), offer.quantity)
        // A hold that has run out but not been swept yet must not block the new one.
        await expireAccepted(tx, { buyerId: offer.buyer_id, listingId: offer.listing_id })
        const live = await tx
          .db('offers')
          .where({ buyer_id: offer.buyer_id, listing_id: offer.listing_id, status: 'accepted' })
          .first('id')
        if (live) throw ChatErrors.offerAlreadyAccepted()
        let accepted: OfferRow
        try {
          // A savepoint, so that losing the race to the unique index is a clean 409.
          accepted = await tx.db.transaction((sp) =>
            setStatus({ ...tx, db: sp }, offer.id, {
              status: 'accepted',
              expires_at: sp.raw(`now() + interval '${ACCEPTED_OFFER_HOLD_HOURS} hours'`),
            }),
          )
        } catch (err) {
          if ((err as { constraint?: string }).constraint === 'offers_one_accepted')
            throw ChatErrors.offerAlreadyAccepted()
          throw err
        }
        await announce(tx, [accepted], { userId: offer.created_by, offer: accepted })
        return toOffer(accepted)
      })
    },

    async decline(ctx: ActorCtx, offerId: string): Promise<Offer> {
      return spine.transaction(ctx, async (tx) => {
        const { offer } = await answerable(tx, offerId, ctx.actor.id)
        const declined = await setStatus(tx, offer.id, { status: 'declined' })
        await announce(tx, [declined], { userId: offer.created_by, offer: declined })
        return toOffer(declined)
      })
    },

    /** Marks the offer `countered` and makes a new pending offer from the caller's side. */
    async counter(ctx: ActorCtx, offerId: string, amount: number, quantity?: number): Promise<Offer> {
      const me = ctx.actor.id
      await deps.sendLimiter.consume(me)
      return spine.transaction(ctx, async (tx) => {
        const { offer, conversation } = await answerable(tx, offerId, me)
        const listing = await listingFor(tx.db, offer.listing_id)
        const units = quantity ?? offer.quantity
        assertOfferable(listing, units)
        const countered = await setStatus(tx, offer.id, { status: 'countered' })
        const next = await createPending(tx, conversation, listing, me, { amount, quantity: units }, offer.id)
        await announce(tx, [countered, next], { userId: offer.created_by, offer: next })
        return toOffer(next)
      })
    },

    /** Its maker takes back a pending offer. */
    async withdraw(ctx: ActorCtx, offerId: string): Promise<Offer> {
      const me = ctx.actor.id
      return spine.transaction(ctx, async (tx) => {
        const { offer } = await lockOffer(tx, offerId, me)
        if (offer.created_by !== me) throw ChatErrors.notOfferMaker()
        if (offer.status !== 'pending') throw ChatErrors.offerNotPending(offer.status)
        const withdrawn = await setStatus(tx, offer.id, { status: 'withdrawn' })
        await announce(tx, [withdrawn], {
          userId: offer.created_by === offer.buyer_id ? offer.seller_id : offer.buyer_id,
          offer: withdrawn,
        })
        return toOffer(withdrawn)
      })
    },

    /**
     * The sweeper job: expires accepted offers whose 48 h hold has passed, in the sweeper's
     * transaction; their events are published once that transaction has committed.
     */
    async expireDue(trx: Knex.Transaction, log: FastifyBaseLogger, limit = 500): Promise<number> {
      const pending: StoredEvent[] = []
      const expired = await expireAccepted({ db: trx, log, pending }, { limit })
      trx.executionPromise.then(
        () => spine.publish({ log }, pending),
        () => {},
      )
      return expired.length
    },
  }
}

export type OffersService = ReturnType<typeof createOffersService>
