import { defineError } from '../shared/index.js'

/** Problems of the HTTP layer itself: bodies, URLs, and the database or a collision behind a request. */
export const HttpErrors = {
  payloadTooLarge: defineError('PAYLOAD_TOO_LARGE', 413, (detail: string = 'The request body is too large') => detail),
  unsupportedMediaType: defineError(
    'UNSUPPORTED_MEDIA_TYPE',
    415,
    (detail: string = 'Send JSON (application/json)') => detail,
  ),
  contentLengthMismatch: defineError('MALFORMED_REQUEST', 400, 'Content-Length does not match the body'),
  malformedJson: defineError('MALFORMED_JSON', 400, (detail: string = 'The body is not valid JSON') => detail),
  badUrl: defineError('BAD_URL', 400, 'The URL is not valid'),
  uriTooLong: defineError('URI_TOO_LONG', 414, 'A path parameter is too long'),
  requestTimeout: defineError('REQUEST_TIMEOUT', 408, 'The request took too long to arrive'),
  /** A 4xx raised by a plugin with no code of ours: its own message is the detail. */
  badRequest: defineError('BAD_REQUEST', 400, (detail: string) => detail),
  /** Serialization failure, deadlock or a busy row: the same request may well succeed at once. */
  tryAgain: defineError(
    'TRY_AGAIN',
    503,
    (detail: string) => detail,
    () => ({ headers: { 'retry-after': '1' } }),
  ),
  timeout: defineError('TIMEOUT', 503, 'The request took too long', () => ({ headers: { 'retry-after': '1' } })),
  serviceUnavailable: defineError('SERVICE_UNAVAILABLE', 503, 'The service is briefly unavailable; try again', () => ({
    headers: { 'retry-after': '2' },
  })),
  /** More requests wait for the database than this node admits (admission.ts): refused before any work. */
  overloaded: defineError('OVERLOADED', 503, 'The server is at capacity; try again in a moment', () => ({
    headers: { 'retry-after': '1' },
  })),
  internal: defineError('INTERNAL', 500, 'Something went wrong on our side; it has been logged'),
}
