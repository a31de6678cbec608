/** The public surface of src/coupons: other folders import from here, never from its files. */

/** The feature's plugin (admin routes). */
export { couponsFeature } from './coupons.plugin.js'
/** Schemas of a coupon code in other features' requests. */
export { CouponCode, CouponCodeBody } from './coupons.schemas.js'
/** Using a coupon, in the caller's transaction: preview, redeem and record, release and restore an order's use. */
export {
  previewCoupon,
  recordRedemption,
  redeemCoupon,
  releaseRedemption,
  restoreRedemption,
} from './coupons.service.js'
/** The limit on failed lookups of typed codes (`app.coupons.guard`). */
export type { CouponGuard, CouponLookupBy } from './coupon-guard.js'
/** Its rows. */
export type { CouponRedemptionRow, CouponRow } from './coupons.tables.js'
