import { Type, type Static } from '@sinclair/typebox'
import { OrNull, StringEnum } from '../shared/index.js'
import { Id, Money, StrictObject, Timestamp } from '../shared/index.js'

export const CartItem = Type.Object(
  {
    listingId: Id,
    title: Type.String(),
    sellerId: Id,
    type: StringEnum(['sale', 'giveaway']),
    quantity: Type.Integer(),
    unitPrice: Type.Integer({ description: 'The unit price when the line was last put (kobo)' }),
    currentPrice: Type.Integer({ description: 'The unit price now: an accepted offer replaces the list price' }),
    listPrice: Type.Integer(),
    priceChanged: Type.Boolean(),
    available: Type.Boolean({ description: 'Whether this quantity can be bought now' }),
    availableQuantity: Type.Integer(),
    status: Type.String({ description: 'The listing status' }),
    offerId: Type.Optional(Id),
    offerQuantity: Type.Optional(
      Type.Integer({
        description: 'With offerId: the units the offer was agreed for (its price applies to at most these)',
      }),
    ),
    lineTotal: Money,
    currency: Type.String(),
    addedAt: Timestamp,
  },
  { title: 'CartItem' },
)
export type CartItem = Static<typeof CartItem>

export const CartCoupon = Type.Object(
  {
    code: Type.String(),
    discount: Money,
    valid: Type.Boolean(),
    problem: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
  },
  { title: 'CartCoupon' },
)

export const Cart = Type.Object(
  {
    items: Type.Array(CartItem),
    subtotal: Money,
    discount: Money,
    total: Money,
    currency: Type.String(),
    coupon: OrNull(CartCoupon),
    checkoutReady: Type.Boolean({ description: 'Every line can be bought as it is' }),
  },
  { title: 'Cart' },
)
export type Cart = Static<typeof Cart>

export const ListingParams = StrictObject({ listingId: Id })
export const PutCartItemBody = StrictObject(
  { quantity: Type.Integer({ minimum: 1, maximum: 999 }) },
  { title: 'PutCartItemBody' },
)
