import type { Db } from '../db/index.js'
import type { UserRow } from './accounts.tables.js'

/** Account lookups and changes other features make, in the caller's database handle or transaction. */

/**
 * A user by id (whether it exists and is banned, and its name), for other features' checks;
 * an erased account is not found (no new conversations with it, no review page).
 */
export async function findUser(
  db: Db,
  userId: string,
): Promise<Pick<UserRow, 'id' | 'name' | 'role' | 'banned_at'> | undefined> {
  return db('users').where('id', userId).whereNull('deleted_at').first('id', 'name', 'role', 'banned_at')
}

/** A user row, locked for the caller's transaction (an admin is about to ban or unban it). */
export async function lockUser(db: Db, userId: string): Promise<UserRow | undefined> {
  return db('users').where('id', userId).forUpdate().first()
}

/** Bans a user (`{ reason }`) or lifts the ban (`null`); returns the stored row. */
export async function setUserBan(db: Db, userId: string, ban: { reason: string } | null): Promise<UserRow> {
  const [row] = await db('users')
    .where('id', userId)
    .update(
      ban
        ? { banned_at: db.fn.now(), ban_reason: ban.reason, updated_at: db.fn.now() }
        : { banned_at: null, ban_reason: null, updated_at: db.fn.now() },
    )
    .returning('*')
  return row!
}

/** Ends every live session of a user (their refresh tokens stop working); returns how many ended. */
export async function revokeUserSessions(db: Db, userId: string, reason: string): Promise<number> {
  return db('sessions')
    .where('user_id', userId)
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now(), revoked_reason: reason })
}

/**
 * Whether a user is banned, as an SQL expression for the insert of their content (a listing,
 * a want): `userExpr` names the user (a binding such as `?`). It takes a share lock on the
 * user row, which a ban's lockUser conflicts with, so an insert racing a ban either waits for
 * the ban's commit and reads it, or commits first and the ban's transaction then flags the row.
 */
export function userBannedSql(userExpr: string): string {
  return `(select u.banned_at is not null from users u where u.id = ${userExpr} for share)`
}

/** Every admin, as a subquery selecting `user_id` (for the spine's `notify`), in the caller's handle or transaction. */
export function adminsQuery(db: Db) {
  return db('users').where('role', 'admin').select('id as user_id')
}
