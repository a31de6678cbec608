import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { EventSpine } from '../events/index.js'
import type { Ledger } from '../ledger/index.js'
import type { PaymentGateway } from '../payments/index.js'

/** What the parts of the payouts feature share; built once by its plugin. */
export type PayoutsDeps = {
  config: Pick<Config, 'PAYOUT_MIN_AMOUNT' | 'PAYSTACK_TIMEOUT_MS'>
  spine: EventSpine
  /** Seller money: each payout's start, payment and return are journals of the ledger. */
  ledger: Ledger
  gateway: PaymentGateway
  /** Wakes the mail sender after a transaction that queued mail committed. */
  mailQueued: () => void
  log: FastifyBaseLogger
}

/** Kobo as a mail shows it. */
export const naira = (kobo: number) =>
  `NGN ${(kobo / 100).toLocaleString('en-NG', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`
