/** The public surface of src/orders: other folders import from here, never from its files. */

/** The feature's plugin (routes; decorates `app.commerce`), after the payments feature. */
export { ordersFeature } from './orders.plugin.js'
export type { Commerce } from './orders.plugin.js'
/** Who may see an order (the one definition), as a function and as SQL. */
export { canSeeOrder, orderVisibleSql } from './order-lifecycle.js'
/** "An honoured order" (paid, not a late payment refunded): the only kind its sellers see, as SQL and over rows. */
export { honouredOrderSql, isHonoured } from './order-lifecycle.js'
/** The payment states of an order whose money Oja holds (wholly or in part). */
export { PAID_STATES } from './order-lifecycle.js'
/** "A live order" (holds or owns its lines), as SQL. */
export { liveOrderSql } from './order-lifecycle.js'
/** Steps that move an order's stock and state, in the caller's transaction (payments and checkout use them). */
export {
  cancelShipments,
  convertToSold,
  emitOrderStatus,
  lockOrder,
  markPaidAt,
  orderItems,
  queuePaidMails,
  queueRefundMail,
  releaseHolds,
  reopenShipments,
  sellersOf,
  setPaymentStatus,
  statusAfterRefunds,
  unitsByListing,
} from './order-lifecycle.js'
export type { AuditCtx } from './order-lifecycle.js'
/** The orders feature's part of checkout's one statement (order, shipments, history, lines). */
export { newOrderSql, reviveRow } from './new-order.js'
export type { JsonRow, NewOrderJson } from './new-order.js'
/** The API shape of orders. */
export { Order } from './orders.schemas.js'
export { buildOrderViews, orderView } from './orders.views.js'
export type { OrderRows } from './orders.views.js'
/** What trust needs to allow a review of a shipment. */
export { shipmentForReview } from './reviews-gate.js'
export type { ReviewableShipment } from './reviews-gate.js'
/** Its rows. */
export type { HistoryRow, OrderItemRow, OrderRow, PaymentStatus, ShipmentRow, ShipmentStatus } from './orders.tables.js'
