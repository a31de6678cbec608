import { adminsQuery } from '../accounts/index.js'
import type { Db } from '../db/index.js'
import { enqueueMail } from '../mail/index.js'
import {
  amountOf,
  isDuplicateTransferReference,
  isInsufficientBalance,
  PaystackError,
  type PaystackTransfer,
} from '../payments/index.js'
import type { Ctx, TxCtx } from '../shared/index.js'
import { naira, type PayoutsDeps } from './payouts.deps.js'
import type { PayoutRow, PayoutStatus } from './payouts.tables.js'

/** What every transfer reference of Oja's starts with: `oja-po-` + the payout id without dashes (39 characters). */
export const REFERENCE_PREFIX = 'oja-po-'

export const referenceOf = (payoutId: string) => `${REFERENCE_PREFIX}${payoutId.replace(/-/g, '')}`

/** Paystack states that end a transfer without paying it. */
export const FAILED_STATES: ReadonlySet<string> = new Set(['failed', 'abandoned', 'rejected', 'blocked'])

/** Where a transfer state puts a payout: anything not final (pending, otp, received, ...) is on its way. */
export function outcomeOf(providerStatus: string): 'paid' | 'failed' | 'reversed' | 'processing' {
  if (providerStatus === 'success') return 'paid'
  if (providerStatus === 'reversed') return 'reversed'
  if (FAILED_STATES.has(providerStatus)) return 'failed'
  return 'processing'
}

/** How long a processing payout waits for its webhook before Oja asks Paystack itself (lost webhooks). */
export const VERIFY_PROCESSING_AFTER_MS = 10 * 60_000
/** The longest wait between two sends of a pending payout. */
const MAX_GAP_MS = 3_600_000

/** The wait after the n-th send whose outcome is unknown: the next sweep, then 5 s doubling to an hour. */
export function unknownOutcomeGapMs(attempts: number): number {
  return attempts <= 1 ? 0 : Math.min(5_000 * 2 ** (attempts - 2), MAX_GAP_MS)
}

/** The wait after the n-th send Paystack's balance could not pay: a minute, doubling to an hour. */
export function shortBalanceGapMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), MAX_GAP_MS)
}

const after = (db: Db, ms: number) => db.raw("now() + (? * interval '1 millisecond')", [ms])
const short = (message: string) => message.slice(0, 300)

/**
 * Sending payouts to Paystack and following them to their end. A payout's money left the
 * seller's available balance when it was written (pending); it is sent after that commit, by
 * the request and then by the sweeper, under a lease so one node sends it at a time. Before
 * any second send Paystack is asked about the reference first: a transfer Paystack holds is
 * adopted, never sent twice (and Paystack refuses a second transfer with the same reference).
 * Outcomes (paid, failed, reversed) come only from Paystack's verify, in one transaction with
 * their journal, the seller's notification and mail.
 */
export function createTransfers(deps: PayoutsDeps) {
  const { gateway, spine, ledger, log } = deps
  const leaseMs = Math.max(60_000, deps.config.PAYSTACK_TIMEOUT_MS * 3)

  /**
   * Takes a payout to work on: in one of `statuses`, not held by another node, and (for the
   * sweeper) due. Counts the attempt and holds the lease until released.
   */
  async function claim(db: Db, id: string, statuses: PayoutStatus[], due: boolean): Promise<PayoutRow | undefined> {
    const [row] = await db('payouts')
      .where('id', id)
      .whereIn('status', statuses)
      .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<', db.fn.now()))
      .modify((q) => (due ? q.where('next_attempt_at', '<=', db.fn.now()) : q))
      .update({ attempts: db.raw('attempts + 1'), lease_until: after(db, leaseMs) })
      .returning('*')
    return row
  }

  async function release(db: Db, id: string): Promise<void> {
    await db('payouts').where('id', id).whereNotNull('lease_until').update({ lease_until: null })
  }

  /**
   * Paystack's transfer with this reference, or undefined when Paystack does not know it. Any
   * other failure to ask is `unavailable` (the outcome stays unknown: never a reason to fail a payout).
   */
  async function lookup(reference: string): Promise<PaystackTransfer | undefined> {
    try {
      return await gateway.verifyTransfer(reference)
    } catch (err) {
      if (err instanceof PaystackError && err.kind === 'rejected') {
        if (err.httpStatus === 404 || /not found/i.test(err.message)) return undefined
        throw new PaystackError('unavailable', `verify: ${err.message}`, err.httpStatus, err.providerCode)
      }
      throw err
    }
  }

  async function sellerOf(db: Db, sellerId: string) {
    return db('users').where('id', sellerId).first<{ email: string; name: string } | undefined>('email', 'name')
  }

  /** The seller's `payout` notification and mail of an outcome, in its transaction. */
  async function tellSeller(tx: TxCtx, p: PayoutRow, status: 'paid' | 'failed' | 'reversed', reason?: string) {
    await spine.notify(tx, [p.seller_id], 'payout', { payoutId: p.id, status, amount: p.amount })
    const seller = await sellerOf(tx.db, p.seller_id)
    if (!seller) return false
    const where = `${p.bank_name}, account ending ${p.account_number_last4}`
    const back =
      'The money is back in your available balance on Oja; check your payout account, then withdraw it again.'
    const mail =
      status === 'paid'
        ? {
            subject: `Your Oja payout of ${naira(p.amount)} has been paid`,
            text: `Paystack has paid ${naira(p.amount)} to ${where}. It usually shows in your account within minutes.`,
          }
        : status === 'failed'
          ? {
              subject: `Your Oja payout of ${naira(p.amount)} could not be paid`,
              text: `Your payout of ${naira(p.amount)} to ${where} could not be paid${reason ? ` (${reason})` : ''}. ${back}`,
            }
          : {
              subject: `Your Oja payout of ${naira(p.amount)} was returned`,
              text: `Your payout of ${naira(p.amount)} to ${where} was returned by the bank. ${back}`,
            }
    await enqueueMail(tx.db, {
      to: seller.email,
      subject: mail.subject,
      text: `Hello ${seller.name},\n\n${mail.text}\n\nReference: ${p.reference}\n`,
    })
    return true
  }

  /**
   * Brings a payout in line with what Paystack says of its transfer, once per change, in one
   * transaction with its journal. `final`: the answer may end the payout (a verify or a
   * confirmed webhook); the answer to `POST /transfer` only moves it to processing. An
   * answer for another amount or currency changes nothing (logged; the ledger check shows it).
   * Returns the payout's status after.
   */
  async function settle(
    ctx: Ctx,
    id: string,
    transfer: PaystackTransfer,
    final: boolean,
  ): Promise<PayoutStatus | undefined> {
    let mailed = false
    const status = await spine.transaction(ctx, async (tx) => {
      const p = await tx.db('payouts').where('id', id).forUpdate().first()
      if (!p) return undefined
      const amount = amountOf(transfer.amount)
      const currency = typeof transfer.currency === 'string' && transfer.currency ? transfer.currency : p.currency
      if (amount !== p.amount || currency !== p.currency) {
        const note = `Paystack reports ${amount ?? '?'} ${currency} for ${p.reference}, not ${p.amount} ${p.currency}; left as it is`
        log.error({ payoutId: p.id, reference: p.reference, amount, currency }, 'payout contradicts Paystack')
        await tx
          .db('payouts')
          .where('id', p.id)
          .update({ last_error: short(note) })
        return p.status
      }
      const told = String(transfer.status)
      const outcome = final ? outcomeOf(told) : 'processing'
      const money = { id: p.id, sellerId: p.seller_id, amount: p.amount, currency: p.currency }
      const seen = {
        provider_status: told,
        transfer_code: typeof transfer.transfer_code === 'string' ? transfer.transfer_code : p.transfer_code,
        last_verified_at: tx.db.fn.now(),
        last_error: null,
      }
      const open = p.status === 'pending' || p.status === 'processing'

      if (outcome === 'processing') {
        if (!open) return p.status
        await tx
          .db('payouts')
          .where('id', p.id)
          .update({
            ...seen,
            status: 'processing',
            next_attempt_at: after(tx.db, VERIFY_PROCESSING_AFTER_MS),
            ...(p.status === 'pending' ? { updated_at: tx.db.fn.now() } : {}),
          })
        if (told === 'otp' && !p.otp_alert_at) {
          // A platform must run with transfer OTPs disabled: no money moves until someone acts.
          await tx.db('payouts').where('id', p.id).update({ otp_alert_at: tx.db.fn.now() })
          await spine.notify(tx, adminsQuery(tx.db), 'payout_otp', {
            payoutId: p.id,
            amount: p.amount,
            message:
              'Paystack asks for an OTP to finalize this transfer: disable transfer OTPs on the Paystack dashboard and finalize it there',
          })
        }
        return 'processing'
      }

      if (outcome === 'paid') {
        if (!open) {
          if (p.status === 'failed')
            log.error({ payoutId: p.id, reference: p.reference }, 'Paystack paid a payout Oja had marked failed')
          return p.status
        }
        await tx
          .db('payouts')
          .where('id', p.id)
          .update({ ...seen, status: 'paid', paid_at: tx.db.fn.now(), updated_at: tx.db.fn.now() })
        await ledger.payoutPaid(tx, money)
        mailed = await tellSeller(tx, p, 'paid')
        return 'paid'
      }

      if (outcome === 'failed') {
        if (!open) {
          if (p.status === 'paid')
            log.error({ payoutId: p.id, reference: p.reference, told }, 'Paystack reports a paid payout as failed')
          return p.status
        }
        const reason = `Paystack reported the transfer as ${told}`
        await tx
          .db('payouts')
          .where('id', p.id)
          .update({
            ...seen,
            status: 'failed',
            failure_reason: reason,
            failed_at: tx.db.fn.now(),
            updated_at: tx.db.fn.now(),
          })
        await ledger.payoutReturned(tx, money, false)
        mailed = await tellSeller(tx, p, 'failed', reason)
        return 'failed'
      }

      // Reversed: after it was paid (the money came back to Paystack's balance) or before Oja learned it was.
      if (!open && p.status !== 'paid') return p.status
      const wasPaid = p.status === 'paid'
      await tx
        .db('payouts')
        .where('id', p.id)
        .update({
          ...seen,
          status: 'reversed',
          failure_reason: 'The bank returned the transfer',
          reversed_at: tx.db.fn.now(),
          updated_at: tx.db.fn.now(),
        })
      await ledger.payoutReturned(tx, money, wasPaid)
      mailed = await tellSeller(tx, p, 'reversed')
      return 'reversed'
    })
    if (mailed) deps.mailQueued()
    return status
  }

  /** Paystack refused the transfer for good: the payout failed and its money is available again. */
  async function fail(ctx: Ctx, id: string, message: string): Promise<void> {
    let mailed = false
    await spine.transaction(ctx, async (tx) => {
      const p = await tx.db('payouts').where('id', id).forUpdate().first()
      if (!p || p.status !== 'pending') return
      const reason = short(`Paystack refused the transfer: ${message}`)
      await tx.db('payouts').where('id', p.id).update({
        status: 'failed',
        failure_reason: reason,
        last_error: reason,
        failed_at: tx.db.fn.now(),
        updated_at: tx.db.fn.now(),
      })
      await ledger.payoutReturned(
        tx,
        { id: p.id, sellerId: p.seller_id, amount: p.amount, currency: p.currency },
        false,
      )
      mailed = await tellSeller(tx, p, 'failed', reason)
    })
    if (mailed) deps.mailQueued()
  }

  /**
   * Paystack's balance cannot pay it: the payout waits (its money stays in transit), admins
   * are told once (`payout_pending`), and it is sent again with back-off (same reference).
   */
  async function waitForBalance(ctx: Ctx, p: PayoutRow, message: string): Promise<void> {
    await spine.transaction(ctx, async (tx) => {
      const [row] = await tx
        .db('payouts')
        .where({ id: p.id, status: 'pending' })
        .update({
          next_attempt_at: after(tx.db, shortBalanceGapMs(p.attempts)),
          last_error: short(message),
          provider_status: 'insufficient_balance',
        })
        .returning(['balance_alert_at'])
      if (!row || row.balance_alert_at) return
      await tx.db('payouts').where('id', p.id).update({ balance_alert_at: tx.db.fn.now() })
      await spine.notify(tx, adminsQuery(tx.db), 'payout_pending', { payoutId: p.id, amount: p.amount })
    })
    log.warn({ payoutId: p.id, amount: p.amount }, 'Paystack balance too low for a payout; it waits')
  }

  /** The outcome of a send is unknown (no answer, 5xx): it stays pending and is asked about before the next send. */
  async function backOff(db: Db, p: PayoutRow, message: string): Promise<void> {
    await db('payouts')
      .where({ id: p.id, status: 'pending' })
      .update({ next_attempt_at: after(db, unknownOutcomeGapMs(p.attempts)), last_error: short(message) })
    log.warn({ payoutId: p.id, err: message }, 'payout not confirmed by Paystack; asked again later')
  }

  /**
   * Sends a pending payout to Paystack (or adopts the transfer Paystack already holds for its
   * reference). `due`: only when its next attempt is due (the sweeper); the request that made
   * it and an admin's retry send at once. Returns false when another node holds it.
   */
  async function send(ctx: Ctx, id: string, due: boolean): Promise<boolean> {
    const p = await claim(ctx.db, id, ['pending'], due)
    if (!p) return false
    try {
      // A send before this one may have reached Paystack with its answer lost: ask first.
      if (p.attempts > 1) {
        const known = await lookup(p.reference)
        if (known) {
          await settle(ctx, p.id, known, true)
          return true
        }
      }
      const answer = await gateway.transfer({
        amount: p.amount,
        recipient: p.recipient_code,
        reference: p.reference,
        reason: `Oja payout ${p.reference}`,
        currency: p.currency,
      })
      // An answer that already says how it ended is believed only once verify says so too.
      const confirmed =
        outcomeOf(String(answer.status)) !== 'processing' ? await lookup(p.reference).catch(() => undefined) : undefined
      await settle(ctx, p.id, confirmed ?? answer, confirmed !== undefined)
    } catch (err) {
      const message = String((err as Error).message)
      if (isDuplicateTransferReference(err)) {
        // Paystack holds a transfer with this reference already: adopt it, never send another.
        const known = await lookup(p.reference).catch(() => undefined)
        if (known) await settle(ctx, p.id, known, true)
        else await backOff(ctx.db, p, `Paystack holds this reference but could not show it: ${message}`)
      } else if (isInsufficientBalance(err)) {
        await waitForBalance(ctx, p, message)
      } else if (err instanceof PaystackError && err.kind === 'rejected') {
        log.error({ payoutId: p.id, err: message }, 'Paystack refused a payout')
        await fail(ctx, p.id, message)
      } else {
        await backOff(ctx.db, p, message)
      }
    } finally {
      await release(ctx.db, p.id)
    }
    return true
  }

  /**
   * Asks Paystack about a processing payout (its webhook may be lost) and follows the answer;
   * still on its way: asked again later. Returns false when another node holds it.
   */
  async function verify(ctx: Ctx, id: string, due: boolean): Promise<boolean> {
    const p = await claim(ctx.db, id, ['processing'], due)
    if (!p) return false
    try {
      const known = await lookup(p.reference)
      if (known) {
        await settle(ctx, p.id, known, true)
      } else {
        log.error({ payoutId: p.id, reference: p.reference }, 'Paystack does not know a processing payout')
        await ctx
          .db('payouts')
          .where({ id: p.id, status: 'processing' })
          .update({
            next_attempt_at: after(ctx.db, VERIFY_PROCESSING_AFTER_MS),
            last_error: 'Paystack does not know this transfer',
          })
      }
    } catch (err) {
      await ctx
        .db('payouts')
        .where({ id: p.id, status: 'processing' })
        .update({
          next_attempt_at: after(ctx.db, VERIFY_PROCESSING_AFTER_MS),
          last_error: short(String((err as Error).message)),
        })
    } finally {
      await release(ctx.db, p.id)
    }
    return true
  }

  /**
   * `transfer.success`, `transfer.failed` and `transfer.reversed`: the payout of `data.reference`
   * follows Paystack's verify (never the webhook's body). Unknown references are ignored; a
   * webhook whose amount disagrees with verify changes nothing; a verify that still says the
   * transfer is on its way, or that cannot be asked, throws so the event is retried later.
   */
  async function onTransferEvent(ctx: Ctx, event: string, data: Record<string, unknown>): Promise<void> {
    const reference = typeof data.reference === 'string' ? data.reference : undefined
    if (!reference?.startsWith(REFERENCE_PREFIX)) {
      log.info({ event, reference }, 'transfer webhook for a reference that is not a payout of Oja; ignored')
      return
    }
    const payout = await ctx.db('payouts').where('reference', reference).first('id')
    if (!payout) {
      log.warn({ event, reference }, 'transfer webhook for an unknown payout; ignored')
      return
    }
    const transfer = await lookup(reference)
    if (!transfer) throw new Error(`Paystack does not show transfer ${reference} yet; retried later`)
    const claimed = amountOf(data.amount)
    if (claimed !== undefined && claimed !== amountOf(transfer.amount)) {
      log.warn(
        { event, reference, claimed, verified: transfer.amount },
        'transfer webhook contradicts Paystack’s verify; ignored',
      )
      return
    }
    if (outcomeOf(String(transfer.status)) === 'processing')
      throw new Error(
        `Paystack's verify says ${String(transfer.status)} for ${reference}, not final yet; retried later`,
      )
    await settle(ctx, payout.id, transfer, true)
  }

  return { send, verify, settle, onTransferEvent, lookup }
}

export type Transfers = ReturnType<typeof createTransfers>
