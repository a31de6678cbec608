import { createConfirmation } from './confirmation.js'
import type { PaymentsDeps } from './payments.deps.js'
import { createReconciliation } from './reconciliation.js'
import { createRefunds } from './refunds.js'
import { createSweeps } from './sweeps.js'
import { createUnpaid } from './unpaid.js'
import { createUnsettled } from './unsettled.js'
import { createWebhooks } from './webhooks.js'

/**
 * Payments, assembled from its jobs: confirmation (confirmation.ts), the refund outbox
 * (refunds.ts), webhook intake (webhooks.ts), checkouts that end unpaid (unpaid.ts), payments
 * Oja could not settle (unsettled.ts), the reconciliation against Paystack's lists
 * (reconciliation.ts) and the sweeper jobs (sweeps.ts).
 */
export function createPaymentsService(deps: PaymentsDeps) {
  const refunds = createRefunds(deps)
  const unsettled = createUnsettled(deps)
  const confirmation = createConfirmation(deps, refunds, unsettled)
  const unpaid = createUnpaid(deps)
  const webhooks = createWebhooks(confirmation, refunds)
  const reconciliation = createReconciliation(deps, { confirmation, refunds, unsettled })
  const sweeps = createSweeps(deps, {
    confirmation,
    refunds,
    unpaid,
    unsettled,
    reconciliation,
    processEvent: webhooks.processEvent,
  })
  return {
    confirmByReference: confirmation.confirmByReference,
    requestRefund: refunds.requestRefund,
    submitRefund: refunds.submitRefund,
    recordWebhook: webhooks.recordWebhook,
    processEvent: webhooks.processEvent,
    /** Adds the handler of a Paystack event another feature owns (payouts: transfer.*). */
    onWebhook: webhooks.on,
    failCheckout: unpaid.failCheckout,
    expireOrder: unpaid.expireOrder,
    expireDueCheckouts: sweeps.expireDueCheckouts,
    reverifyPending: sweeps.reverifyPending,
    retryRefunds: sweeps.retryRefunds,
    replayWebhooks: sweeps.replayWebhooks,
    /** One reconciliation against Paystack's lists now (default window: PAYSTACK_RECONCILE_WINDOW_HOURS). */
    reconcile: reconciliation.reconcile,
    /** Payments Oja could not settle, for admins. */
    listUnsettled: unsettled.list,
    jobs: sweeps.jobs,
  }
}

export type PaymentsService = ReturnType<typeof createPaymentsService>
