import { Type, type Static } from '@sinclair/typebox'
import { CouponCode } from '../coupons/index.js'
import { OrNull, StringEnum } from '../shared/index.js'
import { Order } from '../orders/index.js'
import { postalAddressFields } from '../accounts/index.js'
import { Id, Money, StrictObject, Timestamp } from '../shared/index.js'

export const ShippingAddressInput = StrictObject(postalAddressFields, { title: 'ShippingAddressInput' })
export type ShippingAddressInput = Static<typeof ShippingAddressInput>

export const CheckoutBody = StrictObject(
  {
    addressId: Type.Optional(Id),
    address: Type.Optional(ShippingAddressInput),
    couponCode: Type.Optional(CouponCode),
    callbackUrl: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 2000,
        description:
          'Where Paystack sends the browser after paying: must start with one of PAYMENT_CALLBACK_ORIGINS (custom app schemes such as `ojaapp://` included); unset, any http(s) URL. Else 400 CALLBACK_URL_NOT_ALLOWED',
      }),
    ),
  },
  { title: 'CheckoutBody', description: 'addressId or address; with neither, the default address is used' },
)
export type CheckoutBody = Static<typeof CheckoutBody>

export const CheckoutPayment = Type.Object(
  {
    provider: StringEnum(['paystack']),
    reference: Type.String(),
    authorizationUrl: Type.String(),
    accessCode: Type.String(),
    amount: Money,
    currency: Type.String(),
    expiresAt: Timestamp,
  },
  { title: 'CheckoutPayment' },
)

export const CheckoutResult = Type.Object(
  { order: Order, payment: OrNull(CheckoutPayment) },
  { title: 'CheckoutResult' },
)
export type CheckoutResult = Static<typeof CheckoutResult>
