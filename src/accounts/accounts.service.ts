import type { Job } from '../jobs/index.js'
import { createHash, createHmac, randomBytes } from 'node:crypto'
import type { Config } from '../config.js'
import type { Db } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { blobDeletions } from '../images/index.js'
import { enqueueMail } from '../mail/index.js'
import type { Actor, Ctx, Role } from '../shared/index.js'
import { Errors } from '../shared/index.js'
import { AuthErrors } from '../auth/index.js'
import { AccountErrors } from './accounts.errors.js'
import { passwords } from './passwords.js'
import { switchEmail } from './lifecycle.service.js'
import type { LoginLimiter } from './login-limiter.js'
import { AddressModel, User } from './accounts.model.js'
import type { Address, AddressInput, AddressPatch, Me, UpdateMeBody } from './accounts.schemas.js'
import type { BlockRow, RefreshTokenRow, SessionRow, UserRow } from './accounts.tables.js'

export type SessionMeta = { ip?: string; userAgent?: string }
export type TokenPair = { accessToken: string; refreshToken: string; expiresIn: number }
export type ProfileExtras = (
  db: Db,
  userId: string,
) => Promise<{ rating: { average: number | null; count: number }; activeListings: number }>

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')
const newToken = () => randomBytes(32).toString('base64url')
const normEmail = (email: string) => email.trim().toLowerCase()

export function toMe(u: User): Me {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    emailVerified: u.emailVerifiedAt !== null,
    bio: u.bio,
    location: u.location,
    avatarUrl: u.avatarUrl,
    createdAt: u.createdAt.toISOString(),
  }
}

function toAddress(a: AddressModel): Address {
  return {
    id: a.id,
    fullName: a.fullName,
    phone: a.phone,
    line1: a.line1,
    line2: a.line2,
    city: a.city,
    state: a.state,
    country: a.country,
    postalCode: a.postalCode,
    isDefault: a.isDefault,
  }
}

export type AccountsDeps = {
  config: Pick<
    Config,
    'REFRESH_TOKEN_TTL_DAYS' | 'ACCESS_TOKEN_TTL_SECONDS' | 'REFRESH_REUSE_GRACE_SECONDS' | 'appLinkBase' | 'jwtSecret'
  >
  spine: EventSpine
  signAccess: (claims: { sub: string; sid: string; role: Role }) => string
  loginLimiter: LoginLimiter
  mailQueued: () => void
  profileExtras: ProfileExtras
}

/** Accounts: sign-up, sign-in, sessions with rotating refresh tokens, profiles, addresses, blocks. */
export function createAccountsService(deps: AccountsDeps) {
  const { spine, config } = deps
  // A fixed hash to verify against when the email is unknown, so both failures cost the same.
  const dummyHash = passwords.hashUnbounded('not-a-real-password')
  const expiresIn = config.ACCESS_TOKEN_TTL_SECONDS
  // A rotation's new refresh token follows from the old one (keyed with the server's secret),
  // so a retry with the old token within the grace window can be answered with the same new
  // token although only hashes are stored.
  const rotationKey = createHmac('sha256', config.jwtSecret).update('oja:refresh-rotation').digest()
  const rotatedToken = (previous: string) => createHmac('sha256', rotationKey).update(previous).digest('base64url')

  async function startSession(db: Db, user: Pick<User, 'id' | 'role'>, meta: SessionMeta): Promise<TokenPair> {
    const expiresAt = new Date(Date.now() + config.REFRESH_TOKEN_TTL_DAYS * 86_400_000)
    const [session] = await db('sessions')
      .insert({
        user_id: user.id,
        ip: meta.ip ?? null,
        user_agent: meta.userAgent?.slice(0, 300) ?? null,
        expires_at: expiresAt,
      })
      .returning('id')
    const refreshToken = newToken()
    await db('refresh_tokens').insert({ session_id: session!.id, token_hash: sha256(refreshToken) })
    return {
      accessToken: deps.signAccess({ sub: user.id, sid: session!.id, role: user.role }),
      refreshToken,
      expiresIn,
    }
  }

  async function issueUserToken(
    db: Db,
    userId: string,
    purpose: 'verify_email' | 'reset_password',
    ttlMs: number,
  ): Promise<string> {
    const token = newToken()
    await db('user_tokens').insert({
      user_id: userId,
      purpose,
      token_hash: sha256(token),
      expires_at: new Date(Date.now() + ttlMs),
    })
    return token
  }

  async function queueVerificationMail(db: Db, user: Pick<User, 'id' | 'email' | 'name'>): Promise<void> {
    const token = await issueUserToken(db, user.id, 'verify_email', 48 * 3_600_000)
    await enqueueMail(db, {
      to: user.email,
      subject: 'Confirm your email for Oja',
      text: `Hello ${user.name},\n\nConfirm your email address: ${config.appLinkBase}/verify-email?token=${token}\n\nThe link works once and expires in 48 hours.`,
    })
  }

  /** Takes a single-use token: marks it used and returns its user (and an email change's new address), or fails. */
  async function consumeUserToken(
    db: Db,
    token: string,
    purpose: string,
  ): Promise<{ userId: string; newEmail: string | null }> {
    const [row] = await db('user_tokens')
      .where({ token_hash: sha256(token), purpose })
      .whereNull('used_at')
      .andWhere('expires_at', '>', db.fn.now())
      .update({ used_at: db.fn.now() })
      .returning(['user_id', 'new_email'])
    if (!row) throw AccountErrors.invalidToken()
    return { userId: row.user_id, newEmail: row.new_email }
  }

  async function getUser(db: Db, id: string): Promise<User> {
    const user = await User.query(db).findById(id)
    if (!user) throw Errors.notFound('User')
    return user
  }

  return {
    async register(ctx: Ctx, input: { email: string; password: string; name: string }, meta: SessionMeta) {
      const passwordHash = await passwords.hash(input.password)
      const result = await spine.transaction(ctx, async (tx) => {
        const email = normEmail(input.email)
        const exists = await tx.db('users').whereRaw('lower(email) = ?', [email]).first('id')
        if (exists) throw AccountErrors.emailTaken()
        let user: User
        try {
          user = await User.query(tx.db).insertAndFetch({ email, passwordHash, name: input.name.trim() })
        } catch (err) {
          if ((err as { nativeError?: { code?: string }; code?: string }).nativeError?.code === '23505')
            throw AccountErrors.emailTaken()
          throw err
        }
        await queueVerificationMail(tx.db, user)
        const tokens = await startSession(tx.db, user, meta)
        return { user: toMe(user), ...tokens }
      })
      deps.mailQueued()
      return result
    },

    async login(ctx: Ctx, input: { email: string; password: string }, meta: SessionMeta) {
      const email = normEmail(input.email)
      const ip = meta.ip ?? 'unknown'
      // Counted before the password is checked, so concurrent guesses cannot overtake the count.
      await deps.loginLimiter.attempt(email, ip)
      const user = await User.query(ctx.db).whereRaw('lower(email) = ?', [email]).first()
      const ok = await passwords.verify(user?.passwordHash ?? (await dummyHash), input.password)
      if (!user || !ok) throw AccountErrors.invalidCredentials()
      await deps.loginLimiter.succeed(email, ip)
      if (user.bannedAt) throw AuthErrors.banned()
      const tokens = await startSession(ctx.db, user, meta)
      return { user: toMe(user), ...tokens }
    },

    /**
     * Rotates a refresh token. Presenting one that was already rotated revokes the family,
     * except within REFRESH_REUSE_GRACE_SECONDS of its rotation: then the session's current
     * pair is answered again (a retry after a lost answer, or parallel refreshes).
     */
    async refresh(ctx: Ctx, refreshToken: string): Promise<TokenPair> {
      const outcome = await spine.transaction(ctx, async (tx) => {
        const row = (await tx
          .db('refresh_tokens as r')
          .join('sessions as s', 's.id', 'r.session_id')
          .join('users as u', 'u.id', 's.user_id')
          .where('r.token_hash', sha256(refreshToken))
          .forUpdate('r')
          .first(
            'r.id',
            'r.used_at',
            's.id as session_id',
            's.revoked_at',
            's.expires_at',
            'u.id as user_id',
            'u.role',
            'u.banned_at',
            // The database's clock, read after the lock: a parallel rotation just committed is in grace.
            tx.db.raw('(r.used_at > clock_timestamp() - make_interval(secs => ?)) as in_grace', [
              config.REFRESH_REUSE_GRACE_SECONDS,
            ]),
          )) as
          | {
              id: string
              used_at: Date | null
              session_id: string
              revoked_at: Date | null
              expires_at: Date
              user_id: string
              role: Role
              banned_at: Date | null
              in_grace: boolean | null
            }
          | undefined
        if (!row) return { error: AccountErrors.invalidRefreshToken() }
        // A ban ended the session too; saying so lets the app show "suspended", not "signed out".
        if (row.banned_at) return { error: AuthErrors.banned() }
        if (row.revoked_at || row.expires_at < new Date()) return { error: AccountErrors.invalidRefreshToken() }
        const pair = (token: string): TokenPair => ({
          accessToken: deps.signAccess({ sub: row.user_id, sid: row.session_id, role: row.role }),
          refreshToken: token,
          expiresIn,
        })
        if (row.used_at && row.in_grace) {
          // Follow the rotations from the presented token to the session's current one.
          let token = refreshToken
          for (let step = 0; step < 20; step++) {
            token = rotatedToken(token)
            const next = await tx
              .db('refresh_tokens')
              .where({ token_hash: sha256(token), session_id: row.session_id })
              .first('used_at')
            if (!next) break
            if (!next.used_at) return { tokens: pair(token) }
          }
        }
        if (row.used_at) {
          await tx
            .db('sessions')
            .where('id', row.session_id)
            .update({ revoked_at: tx.db.fn.now(), revoked_reason: 'refresh_token_reuse' })
          ctx.log.warn(
            { sessionId: row.session_id, userId: row.user_id },
            'refresh token reuse: session family revoked',
          )
          return { error: AccountErrors.refreshTokenReused(), revokedSession: row.session_id, userId: row.user_id }
        }
        await tx
          .db('refresh_tokens')
          .where('id', row.id)
          .update({ used_at: tx.db.raw('clock_timestamp()') })
        const next = rotatedToken(refreshToken)
        await tx.db('refresh_tokens').insert({ session_id: row.session_id, token_hash: sha256(next) })
        await tx.db('sessions').where('id', row.session_id).update({ last_used_at: tx.db.fn.now() })
        return { tokens: pair(next) }
      })
      // The revocation must commit even though the caller gets an error.
      if ('revokedSession' in outcome && outcome.revokedSession)
        spine.disconnect(ctx, {
          userId: outcome.userId,
          sessionId: outcome.revokedSession,
          reason: 'refresh_token_reuse',
        })
      if ('error' in outcome && outcome.error) throw outcome.error
      return outcome.tokens!
    },

    async logout(ctx: Ctx, refreshToken: string): Promise<void> {
      const row = await ctx
        .db('refresh_tokens as r')
        .join('sessions as s', 's.id', 'r.session_id')
        .where('r.token_hash', sha256(refreshToken))
        .first<(Pick<RefreshTokenRow, 'session_id'> & Pick<SessionRow, 'user_id'>) | undefined>(
          'r.session_id',
          's.user_id',
        )
      if (!row) throw AccountErrors.invalidRefreshToken()
      await ctx
        .db('sessions')
        .where('id', row.session_id)
        .whereNull('revoked_at')
        .update({ revoked_at: ctx.db.fn.now(), revoked_reason: 'logout' })
      spine.disconnect(ctx, { userId: row.user_id, sessionId: row.session_id, reason: 'logout' })
    },

    /** Verifies the account's email, or, with an email change's link, switches it to the new address. */
    async verifyEmail(ctx: Ctx, token: string): Promise<Me> {
      const outcome = await spine.transaction(ctx, async (tx) => {
        const { userId, newEmail } = await consumeUserToken(tx.db, token, 'verify_email')
        if (newEmail) {
          await switchEmail(tx.db, userId, newEmail, config.appLinkBase)
          return { switched: true, me: toMe(await getUser(tx.db, userId)) }
        }
        const [user] = await User.query(tx.db).where('id', userId).patch({ emailVerifiedAt: new Date() }).returning('*')
        return { switched: false, me: toMe(user!) }
      })
      if (outcome.switched) deps.mailQueued()
      return outcome.me
    },

    async resendVerification(ctx: Ctx & { actor: Actor }): Promise<void> {
      await spine.transaction(ctx, async (tx) => {
        const user = await getUser(tx.db, ctx.actor.id)
        if (user.emailVerifiedAt) throw AccountErrors.alreadyVerified()
        await queueVerificationMail(tx.db, user)
      })
      deps.mailQueued()
    },

    async forgotPassword(ctx: Ctx, emailInput: string): Promise<void> {
      const email = normEmail(emailInput)
      const queued = await spine.transaction(ctx, async (tx) => {
        const user = await User.query(tx.db).whereRaw('lower(email) = ?', [email]).first()
        if (!user || user.bannedAt || user.deletedAt) return false
        const token = await issueUserToken(tx.db, user.id, 'reset_password', 3_600_000)
        await enqueueMail(tx.db, {
          to: user.email,
          subject: 'Reset your Oja password',
          text:
            `Hello ${user.name},\n\nChoose a new password: ${config.appLinkBase}/reset-password?token=${token}\n\n` +
            'The link works once and expires in one hour. If you did not ask for it, ignore this mail.',
        })
        return true
      })
      if (queued) deps.mailQueued()
    },

    /** Whether a reset link's token would still work (the reset page shows its form only then). */
    async resetTokenUsable(ctx: Ctx, token: string): Promise<boolean> {
      const row = await ctx
        .db('user_tokens')
        .where({ token_hash: sha256(token), purpose: 'reset_password' })
        .whereNull('used_at')
        .andWhere('expires_at', '>', ctx.db.fn.now())
        .first('id')
      return row !== undefined
    },

    /**
     * Sets a new password from a reset token, ends every session of the account and spends
     * every other reset link it has outstanding (an older mail must not reset it again).
     */
    async resetPassword(ctx: Ctx, token: string, password: string): Promise<void> {
      // The token is looked up before the password is hashed: a wrong token costs an index
      // lookup, not an argon2 run (the route is unauthenticated).
      const pending = await ctx
        .db('user_tokens')
        .where({ token_hash: sha256(token), purpose: 'reset_password' })
        .whereNull('used_at')
        .andWhere('expires_at', '>', ctx.db.fn.now())
        .first('user_id')
      if (!pending) throw AccountErrors.invalidToken()
      const passwordHash = await passwords.hash(password)
      const userId = await spine.transaction(ctx, async (tx) => {
        // The account's row first: two resets with two of its links run one after the other
        // (the second finds its link spent) instead of deadlocking on each other's tokens.
        await tx.db('users').where('id', pending.user_id).forUpdate().first('id')
        const { userId } = await consumeUserToken(tx.db, token, 'reset_password')
        await User.query(tx.db).where('id', userId).patch({ passwordHash, updatedAt: new Date() })
        await tx
          .db('user_tokens')
          .where({ user_id: userId, purpose: 'reset_password' })
          .whereNull('used_at')
          .update({ used_at: tx.db.fn.now() })
        await tx
          .db('sessions')
          .where('user_id', userId)
          .whereNull('revoked_at')
          .update({ revoked_at: tx.db.fn.now(), revoked_reason: 'password_reset' })
        return userId
      })
      spine.disconnect(ctx, { userId, reason: 'password_reset' })
    },

    async getMe(ctx: Ctx & { actor: Actor }): Promise<Me> {
      return toMe(await getUser(ctx.db, ctx.actor.id))
    },

    async updateMe(ctx: Ctx & { actor: Actor }, patch: UpdateMeBody): Promise<Me> {
      const user = await spine.transaction(ctx, async (tx) => {
        if (patch.avatarUrl !== undefined) {
          // An uploaded avatar replaced by a URL (or cleared): its files go, by the blob sweeper.
          const old = await tx.db('users').where('id', ctx.actor.id).forUpdate().first('avatar_pathnames')
          if (old?.avatar_pathnames?.length) {
            await blobDeletions.schedule(tx.db, old.avatar_pathnames)
            await tx.db('users').where('id', ctx.actor.id).update({ avatar_pathnames: null })
          }
        }
        const [patched] = await User.query(tx.db)
          .where('id', ctx.actor.id)
          .patch({ ...patch, ...(patch.name ? { name: patch.name.trim() } : {}), updatedAt: new Date() })
          .returning('*')
        return patched
      })
      if (!user) throw Errors.notFound('User')
      return toMe(user)
    },

    async publicProfile(ctx: Ctx, userId: string) {
      const user = await User.query(ctx.db).findById(userId)
      if (!user || user.bannedAt || user.deletedAt) throw Errors.notFound('User')
      const extras = await deps.profileExtras(ctx.db, userId)
      return {
        id: user.id,
        name: user.name,
        bio: user.bio,
        location: user.location,
        avatarUrl: user.avatarUrl,
        createdAt: user.createdAt.toISOString(),
        ...extras,
      }
    },

    async listAddresses(ctx: Ctx & { actor: Actor }): Promise<Address[]> {
      const rows = await AddressModel.query(ctx.db)
        .where('user_id', ctx.actor.id)
        .orderBy([
          { column: 'is_default', order: 'desc' },
          { column: 'created_at', order: 'asc' },
        ])
      return rows.map(toAddress)
    },

    async createAddress(ctx: Ctx & { actor: Actor }, input: AddressInput): Promise<Address> {
      return spine.transaction(ctx, async (tx) => {
        // Lock the user's addresses so two concurrent "default" writes cannot both win.
        await tx.db('users').where('id', ctx.actor.id).forUpdate().first('id')
        const count = Number(
          (await tx.db('addresses').where('user_id', ctx.actor.id).count({ n: '*' }).first())?.n ?? 0,
        )
        if (count >= 20) throw AccountErrors.addressLimit()
        const isDefault = input.isDefault === true || count === 0
        if (isDefault)
          await tx.db('addresses').where({ user_id: ctx.actor.id, is_default: true }).update({ is_default: false })
        const row = await AddressModel.query(tx.db).insertAndFetch({
          ...input,
          country: input.country ?? 'NG',
          userId: ctx.actor.id,
          isDefault,
        })
        return toAddress(row)
      })
    },

    async updateAddress(ctx: Ctx & { actor: Actor }, id: string, patch: AddressPatch): Promise<Address> {
      return spine.transaction(ctx, async (tx) => {
        await tx.db('users').where('id', ctx.actor.id).forUpdate().first('id')
        const existing = await AddressModel.query(tx.db).findById(id)
        if (!existing || existing.userId !== ctx.actor.id) throw Errors.notFound('Address')
        if (patch.isDefault === true)
          await tx.db('addresses').where({ user_id: ctx.actor.id, is_default: true }).update({ is_default: false })
        if (patch.isDefault === false && existing.isDefault) throw AccountErrors.defaultAddressRequired()
        const row = await AddressModel.query(tx.db).patchAndFetchById(id, patch)
        return toAddress(row)
      })
    },

    async deleteAddress(ctx: Ctx & { actor: Actor }, id: string): Promise<void> {
      await spine.transaction(ctx, async (tx) => {
        await tx.db('users').where('id', ctx.actor.id).forUpdate().first('id')
        const existing = await AddressModel.query(tx.db).findById(id)
        if (!existing || existing.userId !== ctx.actor.id) throw Errors.notFound('Address')
        await AddressModel.query(tx.db).deleteById(id)
        if (existing.isDefault) {
          // The oldest remaining address becomes the default.
          const next = await AddressModel.query(tx.db).where('user_id', ctx.actor.id).orderBy('created_at').first()
          if (next) await AddressModel.query(tx.db).patch({ isDefault: true }).where('id', next.id)
        }
      })
    },

    async block(ctx: Ctx & { actor: Actor }, userId: string): Promise<void> {
      if (userId === ctx.actor.id) throw AccountErrors.cannotBlockSelf()
      await getUser(ctx.db, userId)
      await ctx
        .db('blocks')
        .insert({ blocker_id: ctx.actor.id, blocked_id: userId })
        .onConflict(['blocker_id', 'blocked_id'])
        .ignore()
    },

    async unblock(ctx: Ctx & { actor: Actor }, userId: string): Promise<void> {
      await ctx.db('blocks').where({ blocker_id: ctx.actor.id, blocked_id: userId }).delete()
    },

    async listBlocks(ctx: Ctx & { actor: Actor }) {
      const rows = await ctx
        .db('blocks as b')
        .join('users as u', 'u.id', 'b.blocked_id')
        .where('b.blocker_id', ctx.actor.id)
        .orderBy('b.created_at', 'desc')
        .select<(Pick<UserRow, 'id' | 'name'> & Pick<BlockRow, 'created_at'>)[]>('u.id', 'u.name', 'b.created_at')
      return rows.map((r) => ({ userId: r.id, name: r.name, createdAt: r.created_at.toISOString() }))
    },
  }
}

export type AccountsService = ReturnType<typeof createAccountsService>

/**
 * The one definition of "blocked either way", as SQL: true when the user `a` has blocked `b`
 * or `b` has blocked `a`. `a` and `b` are SQL expressions of the surrounding statement (a
 * column such as `l.seller_id`, or a named binding such as `:buyerId::uuid`). A block stops
 * chat, offers, want answers and sales, in both directions.
 */
export function blockedEitherWaySql(a: string, b: string): string {
  return `exists (select 1 from blocks blk where (blk.blocker_id = ${a} and blk.blocked_id = ${b}) or (blk.blocker_id = ${b} and blk.blocked_id = ${a}))`
}

/** True when either user has blocked the other (see blockedEitherWaySql). */
export async function isBlockedEitherWay(db: Db, a: string, b: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { blocked: boolean }[] }>(
    `select ${blockedEitherWaySql(':a::uuid', ':b::uuid')} as blocked`,
    { a, b },
  )
  return rows[0]?.blocked === true
}

/** Background job: spent or expired one-time tokens (verification, reset) go a week after expiry. */
export const purgeUserTokensJob: Job = {
  name: 'purge-user-tokens',
  run: (trx) => trx('user_tokens').where('expires_at', '<', trx.raw("now() - interval '7 days'")).delete(),
}
