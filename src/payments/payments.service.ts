import { createConfirmation } from './confirmation.js'
import type { PaymentsDeps } from './payments.deps.js'
import { createRefunds } from './refunds.js'
import { createSweeps } from './sweeps.js'
import { createUnpaid } from './unpaid.js'
import { createWebhooks } from './webhooks.js'

/**
 * Payments, assembled from its jobs: confirmation (confirmation.ts), the refund outbox
 * (refunds.ts), webhook intake (webhooks.ts), checkouts that end unpaid (unpaid.ts) and the
 * sweeper jobs (sweeps.ts).
 */
export function createPaymentsService(deps: PaymentsDeps) {
  const refunds = createRefunds(deps)
  const confirmation = createConfirmation(deps, refunds)
  const unpaid = createUnpaid(deps)
  const webhooks = createWebhooks(confirmation, refunds)
  const sweeps = createSweeps(deps, { confirmation, refunds, unpaid, processEvent: webhooks.processEvent })
  return {
    confirmByReference: confirmation.confirmByReference,
    requestRefund: refunds.requestRefund,
    submitRefund: refunds.submitRefund,
    recordWebhook: webhooks.recordWebhook,
    processEvent: webhooks.processEvent,
    failCheckout: unpaid.failCheckout,
    expireOrder: unpaid.expireOrder,
    expireDueCheckouts: sweeps.expireDueCheckouts,
    reverifyPending: sweeps.reverifyPending,
    retryRefunds: sweeps.retryRefunds,
    replayWebhooks: sweeps.replayWebhooks,
    jobs: sweeps.jobs,
  }
}

export type PaymentsService = ReturnType<typeof createPaymentsService>
