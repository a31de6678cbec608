/** The public surface of src/shared: other folders import from here, never from its files. */

export { isTxCtx } from './context.js'
export type { Actor, Ctx, Role, TxCtx } from './context.js'
export { decodeCursor, encodeCursor, pageOf, useCursorSecret } from './cursor.js'
export { redactSecrets } from './redact.js'
export { AppError, Errors, TITLES, defineError, errorCatalogue } from './errors.js'
export type { ErrorDefinition, ErrorExtra, ProblemFieldError } from './errors.js'
export {
  Currency,
  EmptyBody,
  Id,
  IdParams,
  Money,
  NameText,
  OrNull,
  Page,
  PageQuery,
  Problem,
  StrictObject,
  StringEnum,
  Timestamp,
  problems,
} from './schemas.js'
