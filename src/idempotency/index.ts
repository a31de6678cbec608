export {
  idempotencyPlugin,
  purgeIdempotencyKeysJob,
  IdempotencyErrors,
  requestHash,
  type IdempotencyMode,
  type IdempotencyOptions,
} from './idempotency.plugin.js'
