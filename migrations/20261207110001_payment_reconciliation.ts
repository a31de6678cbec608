import type { Knex } from 'knex'

/**
 * Money Paystack captured is never stranded: webhook replays and payment verifications
 * back off over Paystack's own 72 h horizon (instead of 20 tries in two minutes), a
 * periodic reconciliation compares Oja with Paystack's transaction and refund lists, and
 * what cannot be healed is kept for admins in `unsettled_payments`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payment_events', (t) => {
    // A new event is processed at once by the request that stored it; the sweeper takes it
    // after this time (30 s grace), and after each failure later and later.
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.raw("now() + interval '30 seconds'"))
    // Set when the retries ran past Paystack's horizon and the event was raised to admins.
    t.timestamp('gave_up_at', { useTz: true })
  })
  await knex.raw(
    'create index payment_events_due on payment_events (next_attempt_at) where processed_at is null and gave_up_at is null',
  )

  await knex.schema.alterTable('payments', (t) => {
    // Verifications in a row that could not reach Paystack, and when to ask again.
    t.integer('verify_attempts').notNullable().defaultTo(0)
    t.timestamp('next_verify_at', { useTz: true })
  })

  await knex.schema.createTable('unsettled_payments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('reference').notNullable()
    t.uuid('order_id').references('orders.id').onDelete('SET NULL')
    t.text('kind').notNullable()
    // What Paystack holds for the reference (captured − refunded) and what Oja holds.
    t.bigInteger('paystack_amount')
    t.bigInteger('oja_amount')
    t.string('currency', 3)
    t.text('detail').notNullable()
    t.timestamp('first_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('last_seen_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('resolved_at', { useTz: true })
    t.unique(['reference', 'kind'])
  })
  await knex.raw(`alter table unsettled_payments add constraint unsettled_payments_kind_check
    check (kind in ('amount_mismatch','unconfirmed','unknown_transaction','balance_mismatch'))`)
  await knex.raw(
    'create index unsettled_payments_open on unsettled_payments (first_seen_at desc, id desc) where resolved_at is null',
  )

  // One row per reconciliation run: when it ran, over which window, and what it found.
  await knex.schema.createTable('payment_reconciliations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('finished_at', { useTz: true })
    t.timestamp('window_from', { useTz: true }).notNullable()
    t.timestamp('window_to', { useTz: true }).notNullable()
    t.integer('transactions').notNullable().defaultTo(0)
    t.integer('refunds').notNullable().defaultTo(0)
    t.integer('healed').notNullable().defaultTo(0)
    t.integer('unsettled').notNullable().defaultTo(0)
    t.text('error')
    t.index(['started_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payment_reconciliations')
  await knex.schema.dropTableIfExists('unsettled_payments')
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumn('next_verify_at')
    t.dropColumn('verify_attempts')
  })
  await knex.raw('drop index if exists payment_events_due')
  await knex.schema.alterTable('payment_events', (t) => {
    t.dropColumn('gave_up_at')
    t.dropColumn('next_attempt_at')
  })
}
