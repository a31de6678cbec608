import { AppError } from '../shared/index.js'

/** Errors of payments, webhooks and refunds. */
export const PaymentErrors = {
  providerUnavailable: () =>
    new AppError(
      'PAYMENT_PROVIDER_UNAVAILABLE',
      503,
      'The payment provider is not answering; nothing was charged or reserved, try again',
      { headers: { 'retry-after': '5' } },
    ),
  notVerified: (detail: string, providerStatus?: string) =>
    new AppError('PAYMENT_NOT_VERIFIED', 409, detail, { data: providerStatus ? { providerStatus } : {} }),
  badSignature: () =>
    new AppError('WEBHOOK_SIGNATURE_INVALID', 401, 'The x-paystack-signature header does not match the body'),
  sourceNotAllowed: () =>
    new AppError('WEBHOOK_SOURCE_NOT_ALLOWED', 403, 'Webhooks are not accepted from this address'),
  refundRejected: (message: string) =>
    new AppError('REFUND_REJECTED', 502, `The payment provider refused the refund: ${message}`),
}
