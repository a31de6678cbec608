/** The public surface of src/accounts: other folders import from here, never from its files. */

export { accountsRoutes } from './accounts.routes.js'
/** Account error codes other features answer too (BLOCKED). */
export { AccountErrors } from './accounts.errors.js'
export { postalAddressFields } from './accounts.schemas.js'
export {
  blockedEitherWaySql,
  createAccountsService,
  isBlockedEitherWay,
  purgeUserTokensJob,
} from './accounts.service.js'
export type { AccountsService, ProfileExtras } from './accounts.service.js'
export { LoginLimiter } from './login-limiter.js'
export { activeListingsOf, ratingOf } from './profile-stats.js'
