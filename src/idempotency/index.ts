/** The public surface of src/idempotency: the Idempotency-Key plugin for a scope's routes, its errors and its purge job. */

/** The plugin (register it inside the encapsulated scope whose routes set `config.idempotency`). */
export { idempotencyPlugin, type IdempotencyOptions } from './idempotency.plugin.js'
/** Housekeeping: keys older than 25 hours go (registered by src/app.ts with the shared tables' jobs). */
export { purgeIdempotencyKeysJob } from './idempotency.plugin.js'
/** Its error codes. */
export { IdempotencyErrors } from './idempotency.errors.js'
/** The header's schema, for the routes that take one. */
export { IdempotencyHeaders } from './idempotency.schemas.js'
