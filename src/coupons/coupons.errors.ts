import { AppError } from '../shared/index.js'

/** Why a coupon does not apply. */
export const CouponErrors = {
  notFound: () => new AppError('COUPON_NOT_FOUND', 404, 'No active coupon has this code'),
  expired: () => new AppError('COUPON_EXPIRED', 409, 'This coupon has expired'),
  usedUp: () => new AppError('COUPON_USED_UP', 409, 'This coupon has been used the maximum number of times'),
  userLimit: () =>
    new AppError('COUPON_USER_LIMIT', 409, 'You have already used this coupon the maximum number of times'),
  minOrder: (minOrder: number) =>
    new AppError('COUPON_MIN_ORDER', 409, `This coupon needs an order of at least ${minOrder} kobo`, {
      data: { minOrder },
    }),
  codeTaken: () => new AppError('COUPON_CODE_TAKEN', 409, 'A coupon with this code already exists'),
  limitBelowUses: (used: number) =>
    new AppError('COUPON_LIMIT_BELOW_USES', 409, `The coupon was already used ${used} times`, {
      data: { usedCount: used },
    }),
}
