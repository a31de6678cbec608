/**
 * Query parameters that carry a secret: access tokens (`/v1/stream?token=`, OAuth-style
 * `access_token`), refresh tokens and the mailed one-time tokens of verification and password
 * reset links (`/reset-password?token=`).
 */
const SECRET_PARAMS = /([?&](?:token|access_token|accesstoken|refresh_token|refreshtoken|password)=)[^&#\s"'<>]*/gi

/**
 * The text with the values of secret query parameters replaced by `[redacted]`: for request
 * URLs in the logs and for mailed links written to the log instead of sent.
 */
export function redactSecrets(text: string): string {
  return text.replace(SECRET_PARAMS, '$1[redacted]')
}
