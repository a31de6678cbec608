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
  notCancellable: defineError('ORDER_NOT_CANCELLABLE', 409, (why: string) => why),
  notRefundable: defineError('ORDER_NOT_REFUNDABLE', 409, (why: string) => why),
  refundTooLarge: defineError(
    'REFUND_EXCEEDS_PAID',
    409,
    (remaining: number) => `At most ${remaining} kobo can still be refunded`,
    (remaining) => ({ data: { refundable: remaining } }),
  ),
  sellerOnly: () => Errors.forbidden('Only the seller moves a shipment on'),
  buyerOnly: () => Errors.forbidden('Only the buyer can do this'),
}
