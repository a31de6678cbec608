/** The public surface of src/ledger: other folders import from here, never from its files. */

/** The feature's plugin: balances, ledger, the admin check, the escrow release job. */
export { ledgerFeature } from './ledger.plugin.js'
/** Seller money over the double-entry ledger: capture, refunds, escrow, payouts, balances. */
export { createLedger, HANDOVER_TRIES } from './ledger.service.js'
export type {
  Balance,
  Ledger,
  LedgerCheckPart,
  LedgerDeps,
  LedgerEntryView,
  PayoutMoney,
  ReleaseReason,
} from './ledger.service.js'
export { handoverCodesOf, releaseMany } from './escrow.js'
export type { CapturedLine, CapturedOrder, RefundState } from './escrow.js'
/** The check of the ledger against itself and Oja's records. */
export { checkLedger } from './check.js'
export type { Mismatch } from './check.js'
/** The kobo arithmetic (fee, VAT, shares, reversals). */
export { apportion, grossOfRefunded, lineSplit, mulDivRound, reversedAt, sumSplits } from './shares.js'
export type { Rates, Split } from './shares.js'
/** Its rows. */
export type { EntryRow, EscrowState, JournalRow, SellerBalanceRow, ShipmentMoneyRow } from './ledger.tables.js'
