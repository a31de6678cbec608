import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../config.js'
import type { EventSpine } from '../events/index.js'
import type { PaymentGateway } from '../payments/index.js'
import type { Background } from './background.js'

/** What the commerce services share; built once by the feature plugin. */
export type CommerceDeps = {
  config: Pick<Config, 'RESERVATION_TTL_SECONDS' | 'publicUrl' | 'PAYSTACK_TIMEOUT_MS'>
  spine: EventSpine
  gateway: PaymentGateway
  /** Wakes the mail sender after a transaction that queued mail committed. */
  mailQueued: () => void
  background: Background
  log: FastifyBaseLogger
}
