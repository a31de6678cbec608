import { Message as ChatMessage } from '../chat/index.js'
import { Type, type Static } from '@sinclair/typebox'
import { Location, LocationInput, SellerSummary, Text } from '../listings/index.js'
import { Id, Money, NameText, OrNull, PageQuery, StrictObject, StringEnum, Timestamp } from '../shared/index.js'

const Title = NameText({ minLength: 3, maxLength: 120 })
const Description = Text({ maxLength: 2000 })
export const WantStatus = StringEnum(['open', 'closed'])

export const Want = Type.Object(
  {
    id: Id,
    userId: Id,
    author: SellerSummary,
    title: Type.String(),
    description: Type.String(),
    categoryId: OrNull(Id),
    maxPrice: OrNull(Money),
    currency: Type.String(),
    location: OrNull(Location),
    status: WantStatus,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Want' },
)
export type Want = Static<typeof Want>

export const CreateWantBody = StrictObject(
  {
    title: Title,
    description: Type.Optional(Description),
    categoryId: Type.Optional(Id),
    maxPrice: Type.Optional(Money),
    location: Type.Optional(LocationInput),
  },
  { title: 'CreateWantBody' },
)
export type CreateWantBody = Static<typeof CreateWantBody>

export const UpdateWantBody = StrictObject(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    categoryId: Type.Optional(OrNull(Id)),
    maxPrice: Type.Optional(OrNull(Money)),
    location: Type.Optional(OrNull(LocationInput)),
    status: Type.Optional(WantStatus),
  },
  { title: 'UpdateWantBody', minProperties: 1 },
)
export type UpdateWantBody = Static<typeof UpdateWantBody>

export const ListWantsQuery = StrictObject({
  q: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
  categoryId: Type.Optional(Id),
  mine: Type.Optional(Type.Boolean({ description: "The caller's own wants, open and closed (sign in)" })),
  status: Type.Optional(WantStatus),
  ...PageQuery,
})
export type ListWantsQuery = Static<typeof ListWantsQuery>

export const WantResponseBody = StrictObject(
  {
    listingId: Id,
    message: Type.Optional(Text({ minLength: 1, maxLength: 2000 })),
  },
  { title: 'WantResponseBody' },
)
export type WantResponseBody = Static<typeof WantResponseBody>

/** The chat feature's Message schema (registered by src/chat under `$id: 'Message'`). */
export const Message = Type.Ref(ChatMessage)

export const WantResponseResult = Type.Object(
  {
    conversationId: Id,
    created: Type.Boolean({ description: 'false when the conversation about this listing already existed' }),
    message: OrNull(Message),
  },
  { title: 'WantResponseResult' },
)
