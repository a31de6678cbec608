/** The public surface of src/coupons: other folders import from here, never from its files. */

export { couponsRoutes } from './coupons.routes.js'
export { CouponCode, CouponCodeBody } from './coupons.schemas.js'
export { previewCoupon, redeemCoupon, releaseRedemption, restoreRedemption } from './coupons.service.js'
export type { CouponRow } from './coupons.service.js'
