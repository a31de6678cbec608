import { Type, type Static } from '@sinclair/typebox'
import {
  Currency,
  Id,
  Money,
  NameText,
  OrNull,
  PageQuery,
  StrictObject,
  StringEnum,
  Timestamp,
} from '../shared/index.js'

export const ListingType = StringEnum(['sale', 'giveaway'])
export const Condition = StringEnum(['new', 'like_new', 'good', 'fair'])
export const ListingStatus = StringEnum(['draft', 'active', 'sold', 'removed'])
export type ListingType = Static<typeof ListingType>
export type Condition = Static<typeof Condition>
export type ListingStatus = Static<typeof ListingStatus>

/**
 * Nullable for request bodies: null is tried first, because with `coerceTypes` Ajv would
 * otherwise coerce a null into the first branch (0 for a number, "" for a string).
 */

/** Text a client sends: no NUL characters (PostgreSQL text cannot hold them). */
export const Text = (opts: { minLength?: number; maxLength: number; description?: string }) =>
  Type.String({ pattern: '^[^\\u0000]*$', ...opts })

const Title = NameText({ minLength: 3, maxLength: 120 })
const Description = Text({ maxLength: 5000 })
const Quantity = Type.Integer({ minimum: 1, maximum: 10_000 })

export const LocationInput = StrictObject(
  {
    city: Text({ minLength: 1, maxLength: 100 }),
    state: Text({ minLength: 1, maxLength: 100 }),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  },
  { title: 'LocationInput' },
)
export type LocationInput = Static<typeof LocationInput>

export const Location = Type.Object(
  {
    city: OrNull(Type.String()),
    state: OrNull(Type.String()),
    lat: OrNull(Type.Number()),
    lng: OrNull(Type.Number()),
  },
  { title: 'Location' },
)

export const CreateListingBody = StrictObject(
  {
    title: Title,
    description: Description,
    type: ListingType,
    price: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000_000_000,
        description: 'Minor units (kobo); required for a sale, 0 or absent for a giveaway',
      }),
    ),
    currency: Type.Optional(Currency),
    condition: Condition,
    categoryId: Id,
    quantity: Type.Optional(Quantity),
    location: Type.Optional(LocationInput),
    draft: Type.Optional(Type.Boolean({ description: 'Save without publishing' })),
  },
  { title: 'CreateListingBody' },
)
export type CreateListingBody = Static<typeof CreateListingBody>

export const UpdateListingBody = StrictObject(
  {
    title: Type.Optional(Title),
    description: Type.Optional(Description),
    type: Type.Optional(ListingType),
    price: Type.Optional(Money),
    condition: Type.Optional(Condition),
    categoryId: Type.Optional(Id),
    quantity: Type.Optional(Quantity),
    location: Type.Optional(OrNull(LocationInput)),
    status: Type.Optional(
      StringEnum(['draft', 'active'], {
        description:
          '`active` publishes a draft (or relists a sold listing whose quantity was raised); `draft` unpublishes',
      }),
    ),
  },
  { title: 'UpdateListingBody', minProperties: 1 },
)
export type UpdateListingBody = Static<typeof UpdateListingBody>

export const ImageVariants = Type.Object(
  { thumb: Type.String(), medium: Type.String(), large: Type.String() },
  { title: 'ImageVariants' },
)
export const ListingImage = Type.Object(
  {
    id: Id,
    url: Type.String({ description: 'The large variant' }),
    variants: ImageVariants,
    width: Type.Integer(),
    height: Type.Integer(),
    position: Type.Integer(),
  },
  { title: 'ListingImage' },
)

/** The photos of one multi-part upload, in the order their parts were sent. */
export const ListingImageBatch = Type.Object(
  { items: Type.Array(ListingImage) },
  {
    title: 'ListingImageBatch',
    examples: [
      {
        items: ['0f8fad5b-d9cb-469f-a165-70867728950e', '7c9e6679-7425-40de-944b-e07fc1f90ae7'].map((id, position) => {
          const url = (v: string) =>
            `https://oja.example/uploads/listings/3b241101-e2bb-4255-8caf-4136c566a962/${id}-${v}.webp`
          return {
            id,
            url: url('large'),
            variants: { thumb: url('thumb'), medium: url('medium'), large: url('large') },
            width: 1600,
            height: 1200,
            position,
          }
        }),
      },
    ],
  },
)

export const SellerSummary = Type.Object(
  { id: Id, name: Type.String(), avatarUrl: OrNull(Type.String()) },
  { title: 'SellerSummary' },
)

const listingCore = {
  id: Id,
  sellerId: Id,
  seller: SellerSummary,
  title: Type.String(),
  type: ListingType,
  price: Money,
  currency: Type.String(),
  condition: Condition,
  categoryId: Id,
  status: ListingStatus,
  quantity: Type.Integer(),
  availableQuantity: Type.Integer({ description: 'quantity − sold − live reservations' }),
  location: OrNull(Location),
  isFavourite: Type.Optional(Type.Boolean({ description: 'Present when signed in' })),
  publishedAt: OrNull(Timestamp),
  createdAt: Timestamp,
}

export const Listing = Type.Object(
  {
    ...listingCore,
    description: Type.String(),
    soldQuantity: Type.Integer(),
    images: Type.Array(ListingImage),
    updatedAt: Timestamp,
  },
  { title: 'Listing' },
)
export type Listing = Static<typeof Listing>

export const ListingCard = Type.Object(
  {
    ...listingCore,
    image: OrNull(ListingImage),
    distanceKm: Type.Optional(Type.Number({ description: 'Present when lat/lng were given' })),
  },
  { title: 'ListingCard' },
)
export type ListingCard = Static<typeof ListingCard>

export const SearchSort = StringEnum(['newest', 'price_asc', 'price_desc', 'relevance', 'distance'])
export type SearchSort = Static<typeof SearchSort>

export const SearchQuery = StrictObject({
  q: Type.Optional(Text({ minLength: 1, maxLength: 200 })),
  categoryId: Type.Optional(Id),
  condition: Type.Optional(
    Type.Array(Condition, { minItems: 1, maxItems: 4, description: 'One or more (repeat the parameter)' }),
  ),
  type: Type.Optional(ListingType),
  minPrice: Type.Optional(Money),
  maxPrice: Type.Optional(Money),
  sellerId: Type.Optional(Id),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  radiusKm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })),
  sort: Type.Optional(SearchSort),
  ...PageQuery,
})
export type SearchQuery = Static<typeof SearchQuery>

export const SearchPage = Type.Object(
  {
    items: Type.Array(ListingCard),
    nextCursor: OrNull(Type.String()),
    searchMode: Type.Optional(
      StringEnum(['exact', 'fuzzy'], {
        description: 'With `q`: `fuzzy` when the exact search found little and typo-tolerant matching was used',
      }),
    ),
    correctedQuery: Type.Optional(
      Type.String({
        description:
          'With `searchMode: fuzzy`: the query with its misspelt words replaced by the nearest words of listing titles; the page matches the query or this',
      }),
    ),
  },
  { title: 'SearchPage' },
)

export const MyListingsQuery = StrictObject({ status: Type.Optional(ListingStatus), ...PageQuery })

export const ImageOrderBody = StrictObject(
  {
    imageIds: Type.Array(Id, { minItems: 1, maxItems: 5, uniqueItems: true }),
  },
  { title: 'ImageOrderBody' },
)
export const ImageParams = StrictObject({ id: Id, imageId: Id })

export const ReportReason = StringEnum([
  'prohibited',
  'scam',
  'counterfeit',
  'offensive',
  'wrong_category',
  'duplicate',
  'other',
])
export const ReportBody = StrictObject(
  { reason: ReportReason, detail: Type.Optional(Text({ maxLength: 2000 })) },
  { title: 'ReportBody' },
)
export type ReportBody = Static<typeof ReportBody>
export const ListingReport = Type.Object(
  {
    id: Id,
    listingId: Id,
    reason: Type.String(),
    detail: OrNull(Type.String()),
    status: StringEnum(['open', 'dismissed', 'actioned']),
    createdAt: Timestamp,
  },
  { title: 'ListingReport' },
)
