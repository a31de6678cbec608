import { defineError } from '../shared/index.js'

/** Error codes of accounts, sessions, addresses and blocks (stable; clients switch on `code`). */
export const AccountErrors = {
  emailTaken: defineError('EMAIL_TAKEN', 409, 'An account with this email already exists'),
  invalidCredentials: defineError('INVALID_CREDENTIALS', 401, 'Email or password is wrong'),
  /** More password checks at once than this node hashes and queues: try again in a second. */
  passwordCheckBusy: defineError(
    'PASSWORD_CHECK_BUSY',
    503,
    'Too many sign-ins at once; try again in a moment',
    () => ({ headers: { 'retry-after': '1' } }),
  ),
  invalidRefreshToken: defineError('INVALID_REFRESH_TOKEN', 401, 'The refresh token is not valid; sign in again'),
  refreshTokenReused: defineError(
    'REFRESH_TOKEN_REUSED',
    401,
    'This refresh token was already used; the session has been ended for safety',
  ),
  invalidToken: defineError('INVALID_TOKEN', 400, 'The link is invalid, expired or already used'),
  alreadyVerified: defineError('ALREADY_VERIFIED', 409, 'The email address is already verified'),
  cannotBlockSelf: defineError('CANNOT_BLOCK_SELF', 400, 'You cannot block yourself'),
  addressLimit: defineError('ADDRESS_LIMIT', 409, 'At most 20 addresses per account'),
  defaultAddressRequired: defineError('DEFAULT_ADDRESS_REQUIRED', 409, 'Make another address the default instead'),
  /** Either user has blocked the other: no messages, no offers, no sale between them. */
  blocked: defineError('BLOCKED', 403, 'One of you has blocked the other'),
  /**
   * A signed-in user's own password, asked again before a sensitive change, was wrong. 403, not
   * 401: the session is still good, and a client must not take it for "signed out".
   */
  wrongPassword: defineError('WRONG_PASSWORD', 403, 'The password is wrong'),
  emailUnchanged: defineError('EMAIL_UNCHANGED', 409, 'That is already the email address of this account'),
  /** Erasure must wait: `data.reasons` lists what is still open (`paid_order`, `sale`, `payout`, `dispute`). */
  openTrades: defineError(
    'ACCOUNT_HAS_OPEN_TRADES',
    409,
    (reasons: string[]) => `The account still has open trades (${reasons.join(', ')}); finish them first`,
    (reasons) => ({ data: { reasons } }),
  ),
}
