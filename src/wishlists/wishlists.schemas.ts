import { Type } from '@sinclair/typebox'
import { ListingCard } from '../listings/index.js'
import { Id, OrNull, PageQuery, StrictObject, Timestamp } from '../shared/index.js'

export const WishlistParams = StrictObject({ listingId: Id })
export const WishlistQuery = StrictObject({ ...PageQuery })
export const WishlistPage = Type.Object(
  {
    items: Type.Array(Type.Object({ listing: ListingCard, addedAt: Timestamp })),
    nextCursor: OrNull(Type.String()),
  },
  { title: 'WishlistPage' },
)
