import { Type, type Static } from '@sinclair/typebox'
import { Id, Money, OrNull, PageQuery, StrictObject, StringEnum, Timestamp } from '../shared/index.js'

export const CouponCode = Type.String({
  pattern: '^[A-Za-z0-9_-]{3,32}$',
  description: 'Letters, digits, - and _; matched case-insensitively',
})
const CouponType = StringEnum(['percent', 'flat'])

export const Coupon = Type.Object(
  {
    id: Id,
    code: Type.String(),
    type: CouponType,
    value: Type.Integer({ description: 'percent: 1-100; flat: kobo off' }),
    minOrder: OrNull(Money),
    maxDiscount: OrNull(Money),
    expiresAt: OrNull(Timestamp),
    usageLimit: OrNull(Type.Integer()),
    perUserLimit: OrNull(Type.Integer()),
    usedCount: Type.Integer(),
    active: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Coupon' },
)
export type Coupon = Static<typeof Coupon>

const editable = {
  type: CouponType,
  value: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000 }),
  minOrder: Type.Optional(OrNull(Money)),
  maxDiscount: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 1_000_000_000_000 }))),
  expiresAt: Type.Optional(OrNull(Timestamp)),
  usageLimit: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 1_000_000_000 }))),
  perUserLimit: Type.Optional(OrNull(Type.Integer({ minimum: 1, maximum: 1_000_000_000 }))),
  active: Type.Boolean(),
}

export const CreateCouponBody = StrictObject(
  {
    code: CouponCode,
    ...editable,
    active: Type.Optional(Type.Boolean({ default: true })),
  },
  { title: 'CreateCouponBody' },
)
export type CreateCouponBody = Static<typeof CreateCouponBody>

export const UpdateCouponBody = Type.Partial(StrictObject(editable), { additionalProperties: false, minProperties: 1 })
export type UpdateCouponBody = Static<typeof UpdateCouponBody>

export const ListCouponsQuery = StrictObject({ active: Type.Optional(Type.Boolean()), ...PageQuery })

export const CouponCodeBody = StrictObject({ code: CouponCode }, { title: 'CouponCodeBody' })
