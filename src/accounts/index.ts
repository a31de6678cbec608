/** The public surface of src/accounts: other folders import from here, never from its files. */

/** The feature's routes, its service and what app.ts wires into it (login limits, profile figures, the token purge job). */
export { accountsRoutes } from './accounts.routes.js'
/** Password and email changes, sessions, export and erasure (registered right after accountsRoutes). */
export { lifecycleRoutes } from './lifecycle.routes.js'
export { passwords } from './passwords.js'
export { createAccountsService, purgeUserTokensJob } from './accounts.service.js'
export type { AccountsService, ProfileExtras } from './accounts.service.js'
export { LoginLimiter } from './login-limiter.js'
/** Uploaded profile pictures (PUT /v1/me/avatar); registered after the images feature. */
export { avatarFeature } from './avatar.feature.js'
export { activeListingsOf, ratingOf } from './profile-stats.js'

/** Account error codes other features answer too (BLOCKED). */
export { AccountErrors } from './accounts.errors.js'

/** The one definition of "either user blocked the other", as SQL and as a lookup. */
export { blockedEitherWaySql, isBlockedEitherWay } from './accounts.service.js'

/** The postal address fields checkout's shipping address reuses, and a saved address it ships to. */
export { postalAddressFields } from './accounts.schemas.js'
export { savedAddressOf, type SavedAddress } from './addresses.js'

/** A user looked up by id (chat's recipients, trust's review pages), in the caller's handle or transaction. */
export { findUser } from './accounts.admin.js'

/** Every admin as a `user_id` subquery (payments' alerts to admins). */
export { adminsQuery } from './accounts.admin.js'

/** Bans and unbans (trust's admin tools), in the caller's transaction. */
export { lockUser, revokeUserSessions, setUserBan } from './accounts.admin.js'
/** A user's ban as SQL, for inserts of their listings and wants that may race a ban. */
export { userBannedSql } from './accounts.admin.js'

/** The account and session rows, for other features' joins on them (auth's token check, chat, trust). */
export type { SessionRow, UserRow } from './accounts.tables.js'
