import { Errors, defineError } from '../shared/index.js'

/** Why a withdrawal was refused (the `reason` of PAYOUT_NOT_ALLOWED). */
export type PayoutRefusal =
  'no_payout_account' | 'nothing_available' | 'below_minimum' | 'above_available' | 'account_banned'

/** Errors of payout accounts and payouts. */
export const PayoutErrors = {
  /** A withdrawal Oja refuses; `detail` says why and `reason` names it for apps. */
  notAllowed: defineError(
    'PAYOUT_NOT_ALLOWED',
    422,
    (why: string, _reason: PayoutRefusal, _figures: Record<string, number> = {}) => why,
    (_why, reason, figures = {}) => ({ data: { reason, ...figures } }),
  ),
  accountUnresolved: defineError(
    'BANK_ACCOUNT_UNRESOLVED',
    422,
    (detail: string = 'The bank could not confirm this account number; check it and the bank') => detail,
  ),
  unknownBank: defineError(
    'BANK_CODE_UNKNOWN',
    422,
    (bankCode: string) => `No Nigerian bank has the code ${bankCode}; pick one from GET /v1/banks`,
    (bankCode) => ({ data: { bankCode } }),
  ),
  providerUnavailable: defineError(
    'PAYOUT_PROVIDER_UNAVAILABLE',
    503,
    'Paystack is not answering right now; nothing was changed, try again shortly',
    () => ({ headers: { 'retry-after': '5' } }),
  ),
  /** The payout account cannot change or go while a payout is on its way to it. */
  payoutInProgress: defineError(
    'PAYOUT_IN_PROGRESS',
    409,
    'A payout is on its way to this account; it can be changed or removed once that payout has settled',
  ),
  notRetryable: defineError(
    'PAYOUT_NOT_RETRYABLE',
    409,
    (status: string) =>
      status === 'failed'
        ? 'This payout failed and its money is back in the seller’s available balance; the seller can withdraw it again'
        : `A ${status} payout cannot be sent again`,
    // `status` is the problem's own field: the payout's is `payoutStatus`.
    (status) => ({ data: { payoutStatus: status } }),
  ),
  busy: defineError(
    'PAYOUT_BUSY',
    409,
    'This payout is being sent to Paystack right now; look again in a moment',
    () => ({ headers: { 'retry-after': '5' } }),
  ),
  payoutNotFound: () => Errors.notFound('Payout'),
  accountNotFound: () => Errors.notFound('Payout account'),
}
