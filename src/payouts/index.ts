/** The public surface of src/payouts: other folders import from here, never from its files. */

/** The feature's plugin (routes, webhooks, the retry job, the ledger check's part); it decorates `app.payouts`. */
export { payoutsFeature } from './payouts.plugin.js'
export type { Payouts } from './payouts.plugin.js'
export type { PayoutsService } from './payouts.service.js'
/** Its errors. */
export { PayoutErrors } from './payouts.errors.js'
export type { PayoutRefusal } from './payouts.errors.js'
/** The transfer reference of a payout (`oja-po-<id without dashes>`). */
export { REFERENCE_PREFIX as PAYOUT_REFERENCE_PREFIX, referenceOf as payoutReference } from './transfers.js'
/**
 * For account erasure and export: whether a seller has a payout still on its way (pending or
 * processing), and the API shapes of an account and a payout.
 */
export { accountView as payoutAccountView, payoutInFlight } from './payout-accounts.js'
export { payoutView } from './payouts.service.js'
/** Its rows. */
export type { PayoutAccountRow, PayoutRow, PayoutStatus } from './payouts.tables.js'
