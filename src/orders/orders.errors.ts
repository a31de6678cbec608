import { Errors, defineError } from '../shared/index.js'

/** Errors of orders, shipments and refunds. */
export const OrderErrors = {
  invalidTransition: defineError(
    'INVALID_TRANSITION',
    409,
    (from: string, to: string) => `A shipment cannot go from ${from} to ${to}`,
    (from, to) => ({ data: { from, to } }),
  ),
  notPaid: defineError('ORDER_NOT_PAID', 409, 'The order is not paid'),
  /** Why the buyer cannot cancel (already cancelled, partly sent, not pending or paid). */
  notCancellable: defineError('ORDER_NOT_CANCELLABLE', 409, (whyNotCancellable: string) => whyNotCancellable),
  /** Why an admin cannot refund (not paid, or not paid through Paystack). */
  notRefundable: defineError('ORDER_NOT_REFUNDABLE', 409, (whyNotRefundable: string) => whyNotRefundable),
  refundTooLarge: defineError(
    'REFUND_EXCEEDS_PAID',
    409,
    (remaining: number) => `At most ${remaining} kobo can still be refunded`,
    (remaining) => ({ data: { refundable: remaining } }),
  ),
  sellerOnly: () => Errors.forbidden('Only the seller moves a shipment on'),
  buyerOnly: () => Errors.forbidden('Only the buyer can do this'),
}
