import type { Table } from '../db/index.js'

/** An account. */
export type UserRow = {
  id: string
  email: string
  password_hash: string
  name: string
  role: string
  email_verified_at: Date | null
  bio: string | null
  location: string | null
  avatar_url: string | null
  /** The stored files of an avatar uploaded with PUT /v1/me/avatar (null for none or an outside URL). */
  avatar_pathnames: string[] | null
  banned_at: Date | null
  ban_reason: string | null
  created_at: Date
  updated_at: Date
  /** When the account was erased (its row stays, scrubbed, for the orders and ledger that name it). */
  deleted_at: Date | null
}

/** A signed-in device: access tokens name it, logout and bans revoke it. */
export type SessionRow = {
  id: string
  user_id: string
  user_agent: string | null
  ip: string | null
  created_at: Date
  /** Sign-in, then every refresh. */
  last_used_at: Date
  expires_at: Date
  revoked_at: Date | null
  revoked_reason: string | null
}

/** A refresh token of a session (stored hashed; one use each). */
export type RefreshTokenRow = {
  id: string
  session_id: string
  token_hash: string
  created_at: Date
  used_at: Date | null
}

/** A one-time link token (email verification, password reset), stored hashed. */
export type UserTokenRow = {
  id: string
  user_id: string
  purpose: string
  token_hash: string
  expires_at: Date
  used_at: Date | null
  created_at: Date
  /** An email change's new address (a `verify_email` token that switches the email when used). */
  new_email: string | null
}

/** A postal address of an account (at most one default). */
export type AddressRow = {
  id: string
  user_id: string
  full_name: string
  phone: string
  line1: string
  line2: string | null
  city: string
  state: string
  country: string
  postal_code: string | null
  is_default: boolean
  created_at: Date
}

/** One user blocking another. */
export type BlockRow = { blocker_id: string; blocked_id: string; created_at: Date }

declare module 'knex/types/tables.js' {
  interface Tables {
    users: Table<
      UserRow,
      | 'id'
      | 'role'
      | 'email_verified_at'
      | 'bio'
      | 'location'
      | 'avatar_url'
      | 'avatar_pathnames'
      | 'banned_at'
      | 'ban_reason'
      | 'created_at'
      | 'updated_at'
      | 'deleted_at'
    >
    sessions: Table<
      SessionRow,
      'id' | 'user_agent' | 'ip' | 'created_at' | 'last_used_at' | 'revoked_at' | 'revoked_reason'
    >
    refresh_tokens: Table<RefreshTokenRow, 'id' | 'created_at' | 'used_at'>
    user_tokens: Table<UserTokenRow, 'id' | 'used_at' | 'created_at' | 'new_email'>
    addresses: Table<AddressRow, 'id' | 'line2' | 'country' | 'postal_code' | 'is_default' | 'created_at'>
    blocks: Table<BlockRow, 'created_at'>
  }
}
