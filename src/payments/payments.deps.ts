import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { EventSpine } from '../events/index.js'
import type { Ledger } from '../ledger/index.js'
import type { Background } from './background.js'
import type { PaymentGateway } from './paystack.client.js'

/** What the payments jobs share; built once by the payments plugin. */
export type PaymentsDeps = {
  config: Pick<
    Config,
    'publicUrl' | 'PAYSTACK_TIMEOUT_MS' | 'PAYSTACK_RECONCILE_INTERVAL_MS' | 'PAYSTACK_RECONCILE_WINDOW_HOURS'
  >
  spine: EventSpine
  /** Seller money: every captured payment and every refund posts its journal. */
  ledger: Ledger
  gateway: PaymentGateway
  /** Wakes the mail sender after a transaction that queued mail committed. */
  mailQueued: () => void
  background: Background
  log: FastifyBaseLogger
}
