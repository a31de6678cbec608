import { defineError } from '../shared/index.js'

/** Error codes of chat and offers (stable; clients switch on them). */
export const ChatErrors = {
  /** The conversation does not exist or the caller is not one of its two participants. */
  conversationNotFound: defineError('CONVERSATION_NOT_FOUND', 404, 'Conversation not found'),
  /** No such photo in this conversation (or the caller is not a participant, or its file is gone). */
  imageNotFound: defineError('IMAGE_NOT_FOUND', 404, 'No such photo in this conversation'),
  messageNotFound: defineError('MESSAGE_NOT_FOUND', 404, 'No such message in this conversation'),
  offerNotFound: defineError('OFFER_NOT_FOUND', 404, 'Offer not found'),
  recipientNotFound: defineError('RECIPIENT_NOT_FOUND', 404, 'The other person was not found'),
  cannotMessageSelf: defineError('CANNOT_MESSAGE_SELF', 400, 'A conversation needs two different people'),
  recipientRequired: defineError(
    'RECIPIENT_REQUIRED',
    400,
    'Name the person to talk to (recipientId): you own this listing or want',
  ),
  recipientMismatch: defineError('RECIPIENT_MISMATCH', 400, 'recipientId must be the owner of the listing or want'),
  /** The same clientId was already used for a different message body. */
  clientIdReused: defineError('CLIENT_ID_REUSED', 409, 'This clientId was already used for a different message'),
  onlyBuyerCanOffer: defineError(
    'ONLY_BUYER_CAN_OFFER',
    403,
    'Only the buyer can make an offer; the seller answers with a counter-offer',
  ),
  notOfferRecipient: defineError(
    'NOT_OFFER_RECIPIENT',
    403,
    'Only the other side can accept, decline or counter this offer',
  ),
  notOfferMaker: defineError('NOT_OFFER_MAKER', 403, 'Only the person who made this offer can withdraw it'),
  offerNotPending: defineError(
    'OFFER_NOT_PENDING',
    409,
    (status: string) => `The offer is ${status}, no longer pending`,
    (status) => ({ data: { offerStatus: status } }),
  ),
  /** An offer (or counter) for more units than the listing has left. */
  offerQuantityTooLarge: defineError(
    'OFFER_QUANTITY_TOO_LARGE',
    409,
    (left: number) => `The listing has only ${left} unit${left === 1 ? '' : 's'} left to offer on`,
    (left) => ({ data: { quantityLeft: left } }),
  ),
  offerAlreadyPending: defineError(
    'OFFER_ALREADY_PENDING',
    409,
    'An offer on this listing is already waiting for an answer in this conversation',
  ),
  offerAlreadyAccepted: defineError(
    'OFFER_ALREADY_ACCEPTED',
    409,
    'You already have an accepted offer on this listing',
  ),
  offerNotAllowed: defineError('OFFER_NOT_ALLOWED', 409, 'Offers are only possible on listings for sale'),
  listingNotInConversation: defineError(
    'LISTING_NOT_IN_CONVERSATION',
    400,
    "The listing must be the conversation's listing, or one of the seller's listings",
  ),
}
