import type { HistoryRow, OrderItemRow, OrderRow, ShipmentRow } from './orders.tables.js'

/** A row as `to_jsonb` gives it back: timestamps are ISO strings. */
export type JsonRow<R> = {
  [K in keyof R]: R[K] extends Date ? string : R[K] extends Date | null ? string | null : R[K]
}

/** Turns a row that came back through to_jsonb into the row (every `*_at` string becomes a Date). */
export function reviveRow<R extends object>(row: JsonRow<R>): R {
  const out: Record<string, unknown> = { ...row }
  for (const [k, v] of Object.entries(out)) if (k.endsWith('_at') && typeof v === 'string') out[k] = new Date(v)
  return out as R
}

/** A line of a new order: the listing's terms as the buyer accepted them. */
export type NewOrderLine = Pick<
  OrderItemRow,
  'seller_id' | 'title' | 'listing_type' | 'list_price' | 'unit_price' | 'quantity' | 'currency' | 'offer_id'
> & { listing_id: string }

export type NewOrder = {
  id: string
  buyerId: string
  subtotal: number
  discount: number
  total: number
  currency: string
  coupon: { id: string; code: string } | undefined
  address: Record<string, unknown>
  callbackUrl: string
  /** The checkout window; with nothing to pay (total 0) the order has none. */
  ttlSeconds: number
  sellerIds: string[]
  lines: NewOrderLine[]
}

/** What the order's part of the statement gives back. */
export type NewOrderJson = {
  order: JsonRow<OrderRow>
  shipments: JsonRow<ShipmentRow>[]
  history: JsonRow<HistoryRow>[]
  items: JsonRow<OrderItemRow>[]
}

/**
 * The orders feature's part of checkout's one statement (data-modifying CTEs): the order
 * (`o`), one shipment per seller (`s`) with its first history line (`h`), and the
 * snapshotted lines (`i`). The caller puts `ctes` after its `with`, `columns` in its select
 * list and passes `bindings` (named); other CTEs may refer to `o` and to `:orderId`.
 */
export function newOrderSql(o: NewOrder) {
  const ctes = `o as (
       insert into orders (id, buyer_id, payment_status, subtotal, discount, total, currency, coupon_id, coupon_code, shipping_address, callback_url, expires_at)
       values (:orderId::uuid, :buyerId::uuid, 'pending', :subtotal, :discount, :total, :currency, :couponId::uuid,
               :couponCode, :address::jsonb, :callbackUrl,
               case when :total::bigint > 0 then now() + (:ttlSeconds::int * interval '1 second') end)
       returning *
     ), s as (
       insert into shipments (order_id, seller_id) select :orderId::uuid, x.seller_id from unnest(:sellerIds::uuid[]) as x(seller_id)
       returning *
     ), h as (
       insert into shipment_history (shipment_id, from_status, status, actor_id, note) select s.id, null, 'pending', :buyerId::uuid, 'Order placed' from s
       returning *
     ), i as (
       insert into order_items (order_id, shipment_id, listing_id, seller_id, title, listing_type, list_price, unit_price, quantity, currency, offer_id)
       select :orderId::uuid, s.id, x.listing_id, x.seller_id, x.title, x.listing_type, x.list_price, x.unit_price, x.quantity, x.currency, x.offer_id
       from jsonb_to_recordset(:lines::jsonb) as x(listing_id uuid, seller_id uuid, title text, listing_type text, list_price bigint, unit_price bigint, quantity int, currency text, offer_id uuid)
       join s on s.seller_id = x.seller_id
       returning *
     )`
  const columns = `(select to_jsonb(o) from o) as "order",
       (select coalesce(jsonb_agg(to_jsonb(s) order by s.seller_id), '[]') from s) as shipments,
       (select coalesce(jsonb_agg(to_jsonb(h)), '[]') from h) as history,
       (select coalesce(jsonb_agg(to_jsonb(i) order by i.listing_id), '[]') from i) as items`
  const bindings = {
    orderId: o.id,
    buyerId: o.buyerId,
    subtotal: o.subtotal,
    discount: o.discount,
    total: o.total,
    currency: o.currency,
    couponId: o.coupon?.id ?? null,
    couponCode: o.coupon?.code ?? null,
    address: JSON.stringify(o.address),
    callbackUrl: o.callbackUrl,
    ttlSeconds: o.ttlSeconds,
    sellerIds: o.sellerIds,
    lines: JSON.stringify(o.lines),
  }
  const read = (row: NewOrderJson) => ({
    order: reviveRow<OrderRow>(row.order),
    shipments: row.shipments.map((x) => reviveRow<ShipmentRow>(x)),
    history: row.history.map((x) => reviveRow<HistoryRow>(x)),
    items: row.items.map((x) => reviveRow<OrderItemRow>(x)),
  })
  return { ctes, columns, bindings, read }
}
