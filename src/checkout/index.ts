/** The public surface of src/checkout: other folders import from here, never from its files. */

/** The feature's plugin (the checkout route; needs the payments feature registered before it). */
export { checkoutFeature } from './checkout.plugin.js'
/** Its error codes. */
export { CheckoutErrors } from './checkout.errors.js'
