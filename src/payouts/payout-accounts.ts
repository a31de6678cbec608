import { audit } from '../audit/index.js'
import type { Db } from '../db/index.js'
import { enqueueMail } from '../mail/index.js'
import { PaystackError } from '../payments/index.js'
import type { Actor, Ctx } from '../shared/index.js'
import type { PayoutsDeps } from './payouts.deps.js'
import { PayoutErrors as E } from './payouts.errors.js'
import type { PayoutAccountView } from './payouts.schemas.js'
import type { PayoutAccountRow } from './payouts.tables.js'

type ActorCtx = Ctx & { actor: Actor }

/** How long the bank list is kept in memory (Paystack's list changes a few times a year). */
export const BANKS_TTL_MS = 3_600_000

export type BankView = { code: string; name: string }

/**
 * Locks a seller's balance row (making it first, at zero, if they never had one): every
 * change that must not race a withdrawal of this seller takes it first.
 */
export async function lockSellerBalance(db: Db, sellerId: string, currency = 'NGN'): Promise<number> {
  await db('seller_balances').insert({ seller_id: sellerId, currency }).onConflict(['seller_id', 'currency']).ignore()
  const row = await db('seller_balances').where({ seller_id: sellerId, currency }).forUpdate().first('available')
  return row?.available ?? 0
}

/** The seller has a payout still on its way (pending or processing). */
export async function payoutInFlight(db: Db, sellerId: string): Promise<boolean> {
  const row = await db('payouts').where('seller_id', sellerId).whereIn('status', ['pending', 'processing']).first('id')
  return row !== undefined
}

export function accountView(row: PayoutAccountRow): PayoutAccountView {
  return {
    bankCode: row.bank_code,
    bankName: row.bank_name,
    accountName: row.account_name,
    accountNumberLast4: row.account_number_last4,
    verifiedAt: row.verified_at.toISOString(),
  }
}

/** What an audit row or a mail may say about an account: never its full number. */
const described = (row: PayoutAccountRow) => ({
  bankCode: row.bank_code,
  bankName: row.bank_name,
  accountName: row.account_name,
  accountNumberLast4: row.account_number_last4,
})
const inWords = (row: Pick<PayoutAccountRow, 'bank_name' | 'account_number_last4' | 'account_name'>) =>
  `${row.bank_name}, account ending ${row.account_number_last4} (${row.account_name})`

const NOT_YOU =
  'If this was not you, change your Oja password at once and write to Oja support: someone else may be trying to receive your earnings.'

/** A Paystack failure while setting an account, as the client's problem. */
function accountProblem(err: unknown, rejectedDetail?: string): unknown {
  if (!(err instanceof PaystackError)) return err
  if (err.kind === 'unavailable') return E.providerUnavailable()
  return E.accountUnresolved(rejectedDetail)
}

/**
 * Sellers' payout accounts: the bank list, and the one account each seller's payouts go to,
 * resolved with Paystack and made a transfer recipient. Every change of an account is audited
 * (without the full number) and mailed to the seller, so a taken-over account is noticed.
 */
export function createPayoutAccounts(deps: PayoutsDeps) {
  const { gateway, spine, log } = deps
  let cache: { at: number; banks: BankView[] } | undefined
  let loading: Promise<BankView[]> | undefined

  async function loadBanks(): Promise<BankView[]> {
    const listed = await gateway.listBanks()
    const seen = new Set<string>()
    const banks: BankView[] = []
    for (const b of listed) {
      if (b.active === false || b.is_deleted === true || (b.currency && b.currency !== 'NGN')) continue
      if (typeof b.code !== 'string' || seen.has(b.code)) continue
      seen.add(b.code)
      banks.push({ code: b.code, name: b.name })
    }
    cache = { at: Date.now(), banks }
    return banks
  }

  /**
   * Nigerian banks Paystack can pay, kept for an hour (one load at a time). While Paystack
   * cannot be asked, the last list is served; with none, 503.
   */
  async function banks(): Promise<BankView[]> {
    if (cache && Date.now() - cache.at < BANKS_TTL_MS) return cache.banks
    loading ??= loadBanks().finally(() => {
      loading = undefined
    })
    try {
      return await loading
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'Paystack bank list unavailable')
      if (cache) return cache.banks
      if (err instanceof PaystackError) throw E.providerUnavailable()
      throw err
    }
  }

  async function get(ctx: ActorCtx): Promise<PayoutAccountView> {
    const row = await ctx.db('payout_accounts').where('seller_id', ctx.actor.id).first()
    if (!row) throw E.accountNotFound()
    return accountView(row)
  }

  async function sellerOf(db: Db, sellerId: string) {
    return db('users').where('id', sellerId).first<{ email: string; name: string } | undefined>('email', 'name')
  }

  /**
   * Sets the seller's payout account: the bank must be one of Paystack's, the account must
   * resolve to a name, and Paystack must accept it as a recipient. Refused (409) while a
   * payout is on its way. A new or different account is audited and mailed to the seller.
   */
  async function put(ctx: ActorCtx, input: { bankCode: string; accountNumber: string }): Promise<PayoutAccountView> {
    const sellerId = ctx.actor.id
    const bank = (await banks()).find((b) => b.code === input.bankCode)
    if (!bank) throw E.unknownBank(input.bankCode)
    // Refused before Paystack is asked; checked again under the lock below.
    if (await payoutInFlight(ctx.db, sellerId)) throw E.payoutInProgress()

    let accountName: string
    try {
      const resolved = await gateway.resolveAccount(input.accountNumber, input.bankCode)
      accountName = typeof resolved.account_name === 'string' ? resolved.account_name.trim() : ''
    } catch (err) {
      throw accountProblem(err)
    }
    if (!accountName) throw E.accountUnresolved()
    let recipientCode: string
    try {
      const recipient = await gateway.createRecipient({
        name: accountName,
        accountNumber: input.accountNumber,
        bankCode: input.bankCode,
        currency: 'NGN',
      })
      recipientCode = recipient.recipient_code
    } catch (err) {
      throw accountProblem(err, 'Paystack would not accept this account for payouts; check the number and the bank')
    }
    if (typeof recipientCode !== 'string' || !recipientCode) throw E.providerUnavailable()

    let mailed = false
    const saved = await spine.transaction(ctx, async (tx) => {
      await lockSellerBalance(tx.db, sellerId)
      if (await payoutInFlight(tx.db, sellerId)) throw E.payoutInProgress()
      const before = await tx.db('payout_accounts').where('seller_id', sellerId).forUpdate().first()
      const fields = {
        bank_code: input.bankCode,
        bank_name: bank.name,
        account_name: accountName,
        account_number: input.accountNumber,
        account_number_last4: input.accountNumber.slice(-4),
        recipient_code: recipientCode,
        currency: 'NGN',
        verified_at: new Date(),
      }
      const [row] = await tx
        .db('payout_accounts')
        .insert({ seller_id: sellerId, ...fields })
        .onConflict('seller_id')
        .merge({ ...fields, updated_at: tx.db.fn.now() })
        .returning('*')
      const after = row!
      const same = before?.bank_code === after.bank_code && before.account_number === after.account_number
      if (same) return after
      await audit(tx, {
        action: before ? 'payout_account.changed' : 'payout_account.added',
        targetType: 'user',
        targetId: sellerId,
        ...(before ? { before: described(before) } : {}),
        after: described(after),
      })
      const seller = await sellerOf(tx.db, sellerId)
      if (seller) {
        await enqueueMail(tx.db, {
          to: seller.email,
          subject: before ? 'Your Oja payout account was changed' : 'A payout account was added to your Oja account',
          text:
            `Hello ${seller.name},\n\n` +
            (before
              ? `The bank account your Oja payouts go to was changed from ${inWords(before)} to ${inWords(after)}.`
              : `Your Oja payouts will now go to ${inWords(after)}.`) +
            `\n\n${NOT_YOU}\n`,
        })
        mailed = true
      }
      return after
    })
    if (mailed) deps.mailQueued()
    return accountView(saved)
  }

  /** Removes the seller's payout account (audited and mailed); 404 when none, 409 while a payout is on its way. */
  async function remove(ctx: ActorCtx): Promise<void> {
    const sellerId = ctx.actor.id
    let mailed = false
    await spine.transaction(ctx, async (tx) => {
      await lockSellerBalance(tx.db, sellerId)
      const before = await tx.db('payout_accounts').where('seller_id', sellerId).forUpdate().first()
      if (!before) throw E.accountNotFound()
      if (await payoutInFlight(tx.db, sellerId)) throw E.payoutInProgress()
      await tx.db('payout_accounts').where('seller_id', sellerId).delete()
      await audit(tx, {
        action: 'payout_account.removed',
        targetType: 'user',
        targetId: sellerId,
        before: described(before),
      })
      const seller = await sellerOf(tx.db, sellerId)
      if (seller) {
        await enqueueMail(tx.db, {
          to: seller.email,
          subject: 'Your Oja payout account was removed',
          text: `Hello ${seller.name},\n\nThe bank account your Oja payouts went to (${inWords(before)}) was removed; add one again to withdraw.\n\n${NOT_YOU}\n`,
        })
        mailed = true
      }
    })
    if (mailed) deps.mailQueued()
  }

  return { banks, get, put, remove }
}

export type PayoutAccounts = ReturnType<typeof createPayoutAccounts>
