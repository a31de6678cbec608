import { defineError } from '../shared/index.js'

/** Errors of checkout itself (stock and coupon problems are the cart's and the coupons'). */
export const CheckoutErrors = {
  addressRequired: defineError(
    'ADDRESS_REQUIRED',
    400,
    'Give a shipping address or addressId (there is no default address)',
  ),
  /** PAYMENT_CALLBACK_ORIGINS does not list the callbackUrl's prefix (unset: it is not http(s)). */
  callbackUrlNotAllowed: defineError(
    'CALLBACK_URL_NOT_ALLOWED',
    400,
    'The callbackUrl is not one of the addresses this server may send a payer back to',
  ),
  /** The listings' terms kept moving while the order was being written. */
  termsChanged: defineError(
    'CHECKOUT_CHANGED',
    409,
    'Prices or offers changed while checking out; look at the cart and try again',
  ),
}
