import { Type } from '@sinclair/typebox'

/** The `Idempotency-Key` request header, as routes with `config.idempotency` document it. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Required on checkout: the same key and body within 24 h replays the first response',
    }),
  ),
})
