/** The public surface of src/checkout: other folders import from here, never from its files. */

export { checkoutRoutes } from './checkout.routes.js'
export { IdempotencyHeaders } from './checkout.schemas.js'
export { createCheckoutService } from './checkout.service.js'
