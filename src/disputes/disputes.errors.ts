import { Errors, defineError } from '../shared/index.js'

/** Errors of disputes: opening one, its thread, and its resolution. */
export const DisputeErrors = {
  alreadyReleased: defineError(
    'ALREADY_RELEASED',
    409,
    "The shipment's money has already been released to the seller; it can no longer be disputed",
  ),
  exists: defineError(
    'DISPUTE_EXISTS',
    409,
    'This shipment already has an open dispute; add to its thread instead',
    (disputeId: string) => ({ data: { disputeId } }),
  ),
  nothingInEscrow: defineError(
    'NOTHING_IN_ESCROW',
    409,
    'No money of this shipment is held in escrow (a giveaway, or not paid through Oja): there is nothing to dispute',
  ),
  /** Why the shipment cannot be disputed (the order is not paid, the shipment is cancelled). */
  notOpenable: defineError('DISPUTE_NOT_OPENABLE', 409, (whyNotOpenable: string) => whyNotOpenable),
  resolved: defineError('DISPUTE_RESOLVED', 409, 'This dispute is already resolved'),
  refundTooLarge: defineError(
    'REFUND_EXCEEDS_SHIPMENT',
    422,
    (refundable: number) => `At most ${refundable} kobo of this shipment's payment can be refunded`,
    (refundable) => ({ data: { refundable } }),
  ),
  notPaidThroughPaystack: defineError(
    'DISPUTE_NOT_REFUNDABLE',
    409,
    'The order was not paid through Paystack, so nothing of it can be refunded',
  ),
  buyerOnly: () => Errors.forbidden('Only the buyer of a shipment can dispute it'),
}
