import { defineError } from '../shared/index.js'

/** Error codes of access-token authentication (stable; clients switch on `code`). */
export const AuthErrors = {
  banned: defineError('ACCOUNT_BANNED', 403, 'This account is banned'),
  tokenExpired: defineError('TOKEN_EXPIRED', 401, 'The access token has expired; refresh it'),
  sessionRevoked: defineError('SESSION_REVOKED', 401, 'This session has ended; sign in again'),
}
