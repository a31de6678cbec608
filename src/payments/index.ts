/** The public surface of src/payments: other folders import from here, never from its files. */

/** The feature's plugin (gateway, routes, webhooks, jobs); it decorates `app.payments`. */
export { paymentsFeature } from './payments.plugin.js'
export type { Payments } from './payments.plugin.js'
/** The payments service checkout and orders call (confirm, refund, fail a checkout). */
export type { PaymentsService } from './payments.service.js'
export type { ConfirmOutcome } from './confirmation.js'
/** Errors of payments, webhooks and refunds. */
export { PaymentErrors } from './payments.errors.js'
/** The Paystack gateway and its failure (checkout initializes a payment through it). */
export {
  amountOf,
  isDuplicateTransferReference,
  isInsufficientBalance,
  PaystackError,
  TRANSFER_REFERENCE,
} from './paystack.client.js'
export type {
  ListPage,
  ListQuery,
  PaymentGateway,
  PaystackBank,
  PaystackRecipient,
  PaystackRefund,
  PaystackTransaction,
  PaystackTransfer,
  PaystackTransferStatus,
  ResolvedAccount,
} from './paystack.client.js'
/** A handler of a Paystack webhook event, added by the feature that owns the event (payouts: transfer.*). */
export type { EventHandler } from './webhooks.js'
/** Payment and refund rows, read and written in the caller's transaction. */
export {
  expirePayment,
  latePaymentRefundSql,
  markPaymentStarted,
  newPaymentSql,
  newReference,
  paymentOf,
  paymentsOf,
  refundById,
  refundsOf,
} from './payment-rows.js'
export type { NewPaymentRow } from './payment-rows.js'
export type { PaymentEventRow, PaymentRow, RefundRow } from './payments.tables.js'
