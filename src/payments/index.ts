/** The public surface of src/payments: other folders import from here, never from its files. */

export { PaymentErrors } from './payments.errors.js'
export { paymentsRoutes } from './payments.routes.js'
export { createPaymentsService, newReference } from './payments.service.js'
export type { PaymentsService } from './payments.service.js'
export { PaystackSimulator, simulatorRoutes } from './paystack-simulator.js'
export { PaystackError, createPaystackClient } from './paystack.client.js'
export type { PaymentGateway, Transport } from './paystack.client.js'
