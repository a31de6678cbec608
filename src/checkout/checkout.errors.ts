import { defineError } from '../shared/index.js'

/** Errors of checkout itself (stock and coupon problems are the cart's and the coupons'). */
export const CheckoutErrors = {
  addressRequired: defineError(
    'ADDRESS_REQUIRED',
    400,
    'Give a shipping address or addressId (there is no default address)',
  ),
  /** The listings' terms kept moving while the order was being written. */
  termsChanged: defineError(
    'CHECKOUT_CHANGED',
    409,
    'Prices or offers changed while checking out; look at the cart and try again',
  ),
}
