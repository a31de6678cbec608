import { Errors, defineError } from '../shared/index.js'

/** Problems with an Idempotency-Key. */
export const IdempotencyErrors = {
  required: defineError(
    'IDEMPOTENCY_KEY_REQUIRED',
    400,
    'This request needs an Idempotency-Key header (1-255 characters)',
  ),
  invalid: () =>
    Errors.validation('The Idempotency-Key header must be 1-255 printable characters', [
      { path: '/headers/idempotency-key', message: 'must be 1-255 printable characters' },
    ]),
  reused: defineError('IDEMPOTENCY_KEY_REUSED', 409, 'This Idempotency-Key was already used with a different request'),
  inProgress: defineError(
    'IDEMPOTENCY_KEY_IN_PROGRESS',
    409,
    'A request with this Idempotency-Key is still being processed; retry shortly',
    () => ({ headers: { 'retry-after': '1' } }),
  ),
  unauthenticated: () => Errors.unauthenticated('Sign in to use an Idempotency-Key'),
}
