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
  handoverWrong: defineError(
    'HANDOVER_CODE_WRONG',
    422,
    (triesLeft: number) =>
      `That is not the buyer's hand-over code; ${triesLeft} ${triesLeft === 1 ? 'try' : 'tries'} left`,
    (triesLeft) => ({ data: { triesLeft } }),
  ),
  handoverLocked: defineError(
    'HANDOVER_LOCKED',
    423,
    'Too many wrong hand-over codes: this shipment can no longer be handed over by code; the buyer confirms receipt in the app',
  ),
  noHandover: defineError(
    'HANDOVER_NOT_AVAILABLE',
    409,
    'This shipment has no hand-over code (it was not paid through Oja)',
  ),
  sellerOnly: () => Errors.forbidden('Only the seller moves a shipment on'),
  buyerOnly: () => Errors.forbidden('Only the buyer can do this'),
}
