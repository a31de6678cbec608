import { AppError } from '../shared/index.js'

/** Errors of orders, shipments and refunds. */
export const OrderErrors = {
  invalidTransition: (from: string, to: string) =>
    new AppError('INVALID_TRANSITION', 409, `A shipment cannot go from ${from} to ${to}`, { data: { from, to } }),
  notPaid: () => new AppError('ORDER_NOT_PAID', 409, 'The order is not paid'),
  notCancellable: (why: string) => new AppError('ORDER_NOT_CANCELLABLE', 409, why),
  notRefundable: (why: string) => new AppError('ORDER_NOT_REFUNDABLE', 409, why),
  refundTooLarge: (remaining: number) =>
    new AppError('REFUND_EXCEEDS_PAID', 409, `At most ${remaining} kobo can still be refunded`, {
      data: { refundable: remaining },
    }),
  sellerOnly: () => new AppError('FORBIDDEN', 403, 'Only the seller moves a shipment on'),
  buyerOnly: () => new AppError('FORBIDDEN', 403, 'Only the buyer can do this'),
}
