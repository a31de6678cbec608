import { Type, type Static } from '@sinclair/typebox'
import { Currency, Id, Money, OrNull, StrictObject, StringEnum, Timestamp } from '../shared/schemas.js'

/** Message bodies: 1 to 4 000 characters with at least one that is not white space. */
export const MESSAGE_MAX_LENGTH = 4000
export const MessageBodyText = Type.String({
  minLength: 1,
  maxLength: MESSAGE_MAX_LENGTH,
  pattern: '\\S',
  description: 'Text, 1 to 4 000 characters',
})
/** A client-chosen id that makes a resend a no-op (per sender and conversation). */
export const ClientId = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9_.:-]+$',
  description: 'Client-chosen id; resending with the same one returns the original message',
})

export const OfferStatus = StringEnum(['pending', 'accepted', 'declined', 'countered', 'withdrawn', 'expired'])

export const Offer = Type.Object(
  {
    id: Id,
    conversationId: Id,
    listingId: Id,
    buyerId: Id,
    sellerId: Id,
    amount: Money,
    quantity: Type.Integer({ minimum: 1, description: 'The units the offer is for; `amount` is the price of each' }),
    currency: Type.String(),
    status: OfferStatus,
    createdBy: Id,
    parentOfferId: OrNull(Id),
    expiresAt: OrNull(Timestamp),
    respondedAt: OrNull(Timestamp),
    createdAt: Timestamp,
  },
  { $id: 'Offer' },
)
export type Offer = Static<typeof Offer>

/** The variants of a chat photo: Oja URLs that answer only the conversation's participants. */
const PrivateImageUrl = Type.String({
  description: "An Oja URL; send the participant's `Authorization: Bearer` token to load it",
})
export const MessageImage = Type.Object(
  {
    id: Id,
    url: PrivateImageUrl,
    variants: Type.Object({ thumb: PrivateImageUrl, medium: PrivateImageUrl, large: PrivateImageUrl }),
    width: Type.Integer({ description: 'Of the original, after applying its EXIF orientation' }),
    height: Type.Integer(),
  },
  {
    title: 'MessageImage',
    description: 'The photo of a message of kind `image`; `url` is the large variant',
    examples: [
      {
        id: '9b2f4c1e-7d3a-4f6b-8e21-5c0d9a7b3e64',
        url: 'https://api.oja.example/v1/conversations/1d6f0a52-3c1b-4e8f-9a7d-2b5e8c4f6a10/images/9b2f4c1e-7d3a-4f6b-8e21-5c0d9a7b3e64/large',
        variants: {
          thumb:
            'https://api.oja.example/v1/conversations/1d6f0a52-3c1b-4e8f-9a7d-2b5e8c4f6a10/images/9b2f4c1e-7d3a-4f6b-8e21-5c0d9a7b3e64/thumb',
          medium:
            'https://api.oja.example/v1/conversations/1d6f0a52-3c1b-4e8f-9a7d-2b5e8c4f6a10/images/9b2f4c1e-7d3a-4f6b-8e21-5c0d9a7b3e64/medium',
          large:
            'https://api.oja.example/v1/conversations/1d6f0a52-3c1b-4e8f-9a7d-2b5e8c4f6a10/images/9b2f4c1e-7d3a-4f6b-8e21-5c0d9a7b3e64/large',
        },
        width: 1200,
        height: 1600,
      },
    ],
  },
)

export const Message = Type.Object(
  {
    id: Id,
    conversationId: Id,
    senderId: OrNull(Id),
    kind: StringEnum(['text', 'offer', 'system', 'image']),
    body: Type.String({ description: 'The text; for a photo (`kind: image`) its caption, possibly empty' }),
    offer: Type.Optional(Type.Ref('Offer')),
    image: Type.Optional(MessageImage),
    clientId: OrNull(Type.String()),
    createdAt: Timestamp,
    readAt: OrNull(Timestamp),
  },
  { $id: 'Message', description: '`readAt`: when the recipient of the message had read up to it' },
)
export type Message = Omit<Static<typeof Message>, 'offer'> & { offer?: Offer }

export const UserSummary = Type.Object({ id: Id, name: Type.String(), avatarUrl: OrNull(Type.String()) })
export const ListingSummary = Type.Object({
  id: Id,
  title: Type.String(),
  price: Money,
  currency: Type.String(),
  status: Type.String(),
  sellerId: Id,
})

export const Conversation = Type.Object(
  {
    id: Id,
    listing: OrNull(ListingSummary),
    wantId: OrNull(Id),
    buyerId: Id,
    sellerId: Id,
    otherUser: UserSummary,
    lastMessage: OrNull(Type.Ref('Message')),
    unreadCount: Type.Integer({ minimum: 0 }),
    muted: Type.Boolean({ description: 'I muted it: no push for it' }),
    lastActivityAt: Timestamp,
    createdAt: Timestamp,
  },
  { $id: 'Conversation' },
)
export type Conversation = Omit<Static<typeof Conversation>, 'lastMessage'> & { lastMessage: Message | null }

export const ReadReceipt = Type.Object({
  conversationId: Id,
  userId: Id,
  upToMessageId: Id,
  readAt: Timestamp,
})
export type ReadReceipt = Static<typeof ReadReceipt>

export const OpenConversationBody = Type.Union(
  [
    StrictObject({ listingId: Id, recipientId: Type.Optional(Id), message: Type.Optional(MessageBodyText) }),
    StrictObject({ wantId: Id, recipientId: Type.Optional(Id), message: Type.Optional(MessageBodyText) }),
  ],
  { description: 'A listing (or a want) and, when you are its owner, the other person' },
)
export type OpenConversationBody = { listingId?: string; wantId?: string; recipientId?: string; message?: string }

export const SendMessageBody = StrictObject({ body: MessageBodyText, clientId: Type.Optional(ClientId) })
/** For the OpenAPI document: the multipart fields of a photo message (read from the stream). */
export const SendImageBody = Type.Object(
  {
    // Optional only for the validator, which never sees the multipart stream: the handler requires it.
    file: Type.Optional(
      Type.String({ format: 'binary', description: 'Required: the photo (JPEG, PNG or WebP by content, max 10 MB)' }),
    ),
    clientId: Type.Optional(ClientId),
    caption: Type.Optional(MessageBodyText),
  },
  { examples: [{ file: '(binary JPEG)', clientId: 'a1b2c3-photo-1', caption: 'The scratch on the left arm' }] },
)
export const ImageFileParams = StrictObject({
  id: Id,
  imageId: Id,
  variant: StringEnum(['thumb', 'medium', 'large']),
})
export const MarkReadBody = StrictObject({ upToMessageId: Id })
export const MessagesQuery = StrictObject({
  before: Type.Optional(Id),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 30 })),
})
export const ConversationsQuery = StrictObject({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
})

const OfferQuantity = Type.Integer({
  minimum: 1,
  maximum: 999,
  description:
    "Units the offer is for (default 1; a counter keeps the answered offer's); its price applies to at most these",
})
export const MakeOfferBody = StrictObject({
  listingId: Type.Optional(Id),
  amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: 'Minor units (kobo), per unit' }),
  quantity: Type.Optional(OfferQuantity),
  currency: Type.Optional(Currency),
})
export const CounterOfferBody = StrictObject({
  amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: 'Minor units (kobo), per unit' }),
  quantity: Type.Optional(OfferQuantity),
})

/** Socket payloads (client → server), validated with the same schemas as REST. */
export const MessageSendPayload = StrictObject({ conversationId: Id, body: MessageBodyText, clientId: ClientId })
export const ConversationReadPayload = StrictObject({ conversationId: Id, upToMessageId: Id })
export const TypingPayload = StrictObject({ conversationId: Id, isTyping: Type.Boolean() })
export type MessageSendPayload = Static<typeof MessageSendPayload>
export type ConversationReadPayload = Static<typeof ConversationReadPayload>
export type TypingPayload = Static<typeof TypingPayload>
/** What the other participant gets (`typing`, server → client; not stored). */
export const TypingEvent = Type.Object({ conversationId: Id, userId: Id, isTyping: Type.Boolean() })
export type TypingEvent = Static<typeof TypingEvent>
