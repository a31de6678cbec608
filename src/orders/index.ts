/** The public surface of src/orders: other folders import from here, never from its files. */

export {
  cancelShipments,
  convertToSold,
  emitOrderStatus,
  lockOrder,
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
export type { OrderItemRow, OrderRow } from './order-lifecycle.js'
export { ordersRoutes } from './orders.routes.js'
export { Order } from './orders.schemas.js'
export { createOrdersService } from './orders.service.js'
export type { OrdersService } from './orders.service.js'
export { buildOrderViews, orderView } from './orders.views.js'
export type { HistoryRow, OrderRows, PaymentViewRow, ShipmentRow } from './orders.views.js'
export { shipmentForReview } from './reviews-gate.js'
