import type { Knex } from 'knex'

/**
 * Commerce: carts, coupons, orders split into one shipment per seller, payments (Paystack),
 * refunds and the deduplicated record of provider webhooks. Money is bigint kobo.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('coupons', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('code').notNullable()
    t.text('type').notNullable()
    t.bigInteger('value').notNullable()
    t.bigInteger('min_order')
    t.bigInteger('max_discount')
    t.timestamp('expires_at', { useTz: true })
    t.integer('usage_limit')
    t.integer('per_user_limit')
    // Counted by a conditional UPDATE in the checkout transaction (never read-then-write).
    t.integer('used_count').notNullable().defaultTo(0)
    t.boolean('active').notNullable().defaultTo(true)
    t.uuid('created_by').references('users.id').onDelete('SET NULL')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw('create unique index coupons_code_key on coupons (upper(code))')
  await knex.raw('create index coupons_page on coupons (created_at desc, id desc)')
  await knex.raw(`alter table coupons
    add constraint coupons_type_check check (type in ('percent','flat')),
    add constraint coupons_value_check check (value > 0 and (type <> 'percent' or value <= 100)),
    add constraint coupons_limits_check check (
      (min_order is null or min_order >= 0) and (max_discount is null or max_discount > 0)
      and (usage_limit is null or usage_limit > 0) and (per_user_limit is null or per_user_limit > 0)),
    add constraint coupons_used_check check (used_count >= 0 and (usage_limit is null or used_count <= usage_limit))`)

  // One cart per user: the coupon being previewed, and the lines.
  await knex.schema.createTable('carts', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE')
    t.uuid('coupon_id').references('coupons.id').onDelete('SET NULL')
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.schema.createTable('cart_items', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.integer('quantity').notNullable()
    // The unit price the buyer saw when the line was last put (list or accepted-offer price).
    t.bigInteger('unit_price').notNullable()
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'listing_id'])
    t.index(['listing_id'])
  })
  await knex.raw(
    'alter table cart_items add constraint cart_items_quantity_check check (quantity between 1 and 999 and unit_price >= 0)',
  )

  await knex.schema.createTable('orders', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('payment_status').notNullable().defaultTo('pending')
    t.bigInteger('subtotal').notNullable()
    t.bigInteger('discount').notNullable().defaultTo(0)
    t.bigInteger('total').notNullable()
    t.bigInteger('refunded_amount').notNullable().defaultTo(0)
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.uuid('coupon_id').references('coupons.id').onDelete('SET NULL')
    t.text('coupon_code')
    t.jsonb('shipping_address').notNullable()
    t.text('callback_url')
    // End of the checkout window: the reservations' expiry.
    t.timestamp('expires_at', { useTz: true })
    t.timestamp('paid_at', { useTz: true })
    t.timestamp('cancelled_at', { useTz: true })
    t.text('cancel_reason')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table orders
    add constraint orders_payment_status_check check (payment_status in ('pending','paid','failed','expired','refunded','partially_refunded')),
    add constraint orders_amounts_check check (subtotal >= 0 and discount >= 0 and discount <= subtotal and total = subtotal - discount
      and refunded_amount >= 0 and refunded_amount <= total)`)
  await knex.raw('create index orders_buyer_page on orders (buyer_id, created_at desc, id desc)')
  await knex.raw("create index orders_pending_due on orders (expires_at) where payment_status = 'pending'")

  await knex.schema.createTable('shipments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE')
    t.uuid('seller_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('status').notNullable().defaultTo('pending')
    t.text('tracking_number')
    t.text('carrier')
    t.timestamp('sent_at', { useTz: true })
    t.timestamp('delivered_at', { useTz: true })
    t.timestamp('received_at', { useTz: true })
    t.timestamp('cancelled_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.unique(['order_id', 'seller_id'])
  })
  await knex.raw(
    "alter table shipments add constraint shipments_status_check check (status in ('pending','sent','en_route','delivered','received','cancelled'))",
  )
  await knex.raw('create index shipments_seller_page on shipments (seller_id, created_at desc, id desc)')

  await knex.schema.createTable('shipment_history', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('shipment_id').notNullable().references('shipments.id').onDelete('CASCADE')
    t.text('from_status')
    t.text('status').notNullable()
    t.uuid('actor_id').references('users.id').onDelete('SET NULL')
    t.text('tracking_number')
    t.text('carrier')
    t.text('note')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['shipment_id', 'created_at'])
  })

  // Each line keeps a snapshot of title, price and seller at order time.
  await knex.schema.createTable('order_items', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE')
    t.uuid('shipment_id').notNullable().references('shipments.id').onDelete('CASCADE')
    t.uuid('listing_id').references('listings.id').onDelete('SET NULL')
    t.uuid('seller_id').notNullable()
    t.text('title').notNullable()
    t.text('listing_type').notNullable()
    t.bigInteger('list_price').notNullable()
    t.bigInteger('unit_price').notNullable()
    t.integer('quantity').notNullable()
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.uuid('offer_id').references('offers.id').onDelete('SET NULL')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['order_id'])
    t.index(['listing_id'])
    t.index(['offer_id'])
  })
  await knex.raw(
    'alter table order_items add constraint order_items_amounts_check check (quantity >= 1 and unit_price >= 0 and list_price >= 0)',
  )

  await knex.raw(
    'alter table reservations add constraint reservations_order_fk foreign key (order_id) references orders(id) on delete cascade',
  )

  await knex.schema.createTable('payments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('order_id').notNullable().unique().references('orders.id').onDelete('CASCADE')
    t.text('provider').notNullable().defaultTo('paystack')
    t.text('reference').notNullable().unique()
    t.bigInteger('amount').notNullable()
    t.string('currency', 3).notNullable()
    t.text('status').notNullable().defaultTo('initializing')
    t.text('authorization_url')
    t.text('access_code')
    t.bigInteger('provider_transaction_id')
    t.text('gateway_response')
    t.timestamp('paid_at', { useTz: true })
    t.timestamp('last_verified_at', { useTz: true })
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(
    "alter table payments add constraint payments_status_check check (status in ('initializing','pending','success','failed','expired'))",
  )
  await knex.raw("create index payments_pending on payments (created_at) where status = 'pending'")

  // A refund is an outbox row: written with the change that causes it, then sent to Paystack
  // (at once, and again by the sweeper while Paystack is unreachable).
  await knex.schema.createTable('refunds', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE')
    t.uuid('payment_id').notNullable().references('payments.id').onDelete('CASCADE')
    t.bigInteger('amount').notNullable()
    t.string('currency', 3).notNullable()
    t.text('reason').notNullable()
    t.text('origin').notNullable()
    t.text('status').notNullable().defaultTo('pending')
    t.bigInteger('provider_refund_id').unique()
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.text('last_error')
    t.uuid('requested_by').references('users.id').onDelete('SET NULL')
    t.timestamp('processed_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['order_id'])
  })
  await knex.raw(`alter table refunds
    add constraint refunds_status_check check (status in ('pending','processing','processed','failed')),
    add constraint refunds_origin_check check (origin in ('admin','buyer_cancel','late_payment','provider')),
    add constraint refunds_amount_check check (amount > 0)`)
  await knex.raw("create index refunds_due on refunds (next_attempt_at) where status = 'pending'")

  // Every accepted provider webhook once (deduplicated), processed after the 200 answer.
  await knex.schema.createTable('payment_events', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('provider').notNullable().defaultTo('paystack')
    t.text('dedupe_key').notNullable()
    t.text('event').notNullable()
    t.text('reference')
    t.jsonb('payload').notNullable()
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('processed_at', { useTz: true })
    t.integer('attempts').notNullable().defaultTo(0)
    t.text('last_error')
    t.unique(['provider', 'dedupe_key'])
  })
  await knex.raw('create index payment_events_unprocessed on payment_events (received_at) where processed_at is null')

  await knex.schema.createTable('coupon_redemptions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('coupon_id').notNullable().references('coupons.id').onDelete('CASCADE')
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('order_id').notNullable().unique().references('orders.id').onDelete('CASCADE')
    t.bigInteger('discount').notNullable()
    // Set when the order is abandoned, cancelled or fails: the use counts again.
    t.timestamp('released_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(
    'create index coupon_redemptions_live on coupon_redemptions (coupon_id, user_id) where released_at is null',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table reservations drop constraint if exists reservations_order_fk')
  for (const table of [
    'coupon_redemptions',
    'payment_events',
    'refunds',
    'payments',
    'order_items',
    'shipment_history',
    'shipments',
    'orders',
    'cart_items',
    'carts',
    'coupons',
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
