import type { Knex } from 'knex'

/**
 * Disputes: a buyer's complaint about one paid shipment, which holds the shipment's money
 * (src/ledger: pending → on hold) until an admin resolves it (release, refund or split), and
 * its thread of messages between the buyer, the seller and admins. A shipment has at most one
 * open dispute at a time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('disputes', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('shipment_id').notNullable().references('shipments.id')
    t.uuid('order_id').notNullable().references('orders.id')
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.uuid('seller_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('reason').notNullable()
    t.text('detail').notNullable()
    t.text('status').notNullable().defaultTo('open')
    /** The admin's decision: release (all to the seller), refund (all to the buyer) or split. */
    t.text('outcome')
    /** Kobo refunded to the buyer by the decision (refund, split). */
    t.bigInteger('refund_amount')
    t.uuid('refund_id').references('refunds.id')
    t.uuid('resolved_by').references('users.id').onDelete('SET NULL')
    t.text('resolution_note')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('resolved_at', { useTz: true })
  })
  await knex.raw(`alter table disputes
    add constraint disputes_reason_check check (reason in ('not_received','not_as_described','damaged','other')),
    add constraint disputes_detail_check check (char_length(detail) between 1 and 2000),
    add constraint disputes_status_check check (status in ('open','resolved')),
    add constraint disputes_outcome_check check (outcome in ('release','refund','split')),
    add constraint disputes_resolution_check check ((status = 'open') = (outcome is null and resolved_at is null)),
    add constraint disputes_refund_amount_check check (refund_amount >= 0),
    add constraint disputes_not_self check (buyer_id <> seller_id)`)
  // At most one open dispute per shipment (concurrent opens: exactly one wins).
  await knex.raw("create unique index disputes_one_open on disputes (shipment_id) where status = 'open'")
  await knex.raw('create index disputes_buyer_page on disputes (buyer_id, created_at desc, id desc)')
  await knex.raw('create index disputes_seller_page on disputes (seller_id, created_at desc, id desc)')
  await knex.raw('create index disputes_status_page on disputes (status, created_at desc, id desc)')
  await knex.raw('create index disputes_page on disputes (created_at desc, id desc)')

  await knex.schema.createTable('dispute_messages', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('dispute_id').notNullable().references('disputes.id').onDelete('CASCADE')
    t.uuid('author_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.text('author_role').notNullable()
    t.text('body').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table dispute_messages
    add constraint dispute_messages_role_check check (author_role in ('buyer','seller','admin')),
    add constraint dispute_messages_body_check check (char_length(body) between 1 and 2000)`)
  await knex.raw('create index dispute_messages_thread on dispute_messages (dispute_id, created_at, id)')
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('dispute_messages')
  await knex.schema.dropTableIfExists('disputes')
}
