import { defineError } from '../shared/index.js'

/** Why a coupon does not apply, and the admin's coupon problems. */
export const CouponErrors = {
  notFound: defineError('COUPON_NOT_FOUND', 404, 'No active coupon has this code'),
  expired: defineError('COUPON_EXPIRED', 409, 'This coupon has expired'),
  usedUp: defineError('COUPON_USED_UP', 409, 'This coupon has been used the maximum number of times'),
  userLimit: defineError('COUPON_USER_LIMIT', 409, 'You have already used this coupon the maximum number of times'),
  minOrder: defineError(
    'COUPON_MIN_ORDER',
    409,
    (minOrder: number) => `This coupon needs an order of at least ${minOrder} kobo`,
    (minOrder) => ({ data: { minOrder } }),
  ),
  codeTaken: defineError('COUPON_CODE_TAKEN', 409, 'A coupon with this code already exists'),
  limitBelowUses: defineError(
    'COUPON_LIMIT_BELOW_USES',
    409,
    (used: number) => `The coupon was already used ${used} times`,
    (used) => ({ data: { usedCount: used } }),
  ),
}
