import { defineError } from '../shared/index.js'

/** Errors of payments, webhooks and refunds. */
export const PaymentErrors = {
  providerUnavailable: defineError(
    'PAYMENT_PROVIDER_UNAVAILABLE',
    503,
    'The payment provider is not answering; nothing was charged or reserved, try again',
    () => ({ headers: { 'retry-after': '5' } }),
  ),
  notVerified: defineError<[detail: string, providerStatus?: string]>(
    'PAYMENT_NOT_VERIFIED',
    409,
    (detail: string, _providerStatus?: string) => detail,
    (_detail, providerStatus) => ({ data: providerStatus ? { providerStatus } : {} }),
  ),
  badSignature: defineError(
    'WEBHOOK_SIGNATURE_INVALID',
    401,
    'The x-paystack-signature header does not match the body',
  ),
  sourceNotAllowed: defineError('WEBHOOK_SOURCE_NOT_ALLOWED', 403, 'Webhooks are not accepted from this address'),
  refundRejected: defineError(
    'REFUND_REJECTED',
    502,
    (message: string) => `The payment provider refused the refund: ${message}`,
  ),
}
