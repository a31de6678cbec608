import type { Knex } from 'knex'

/**
 * Seller payouts through Paystack Transfers: each seller's bank account (a Paystack transfer
 * recipient) and the payouts, a state machine pending → processing → paid | failed | reversed
 * driven only by Paystack's verified answers. Each payout's money moves in the ledger
 * (`payout:<id>:start|paid|returned` journals); its transfer reference is derived from its id.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payout_accounts', (t) => {
    t.uuid('seller_id').primary().references('users.id').onDelete('CASCADE')
    t.text('bank_code').notNullable()
    t.text('bank_name').notNullable()
    /** The name the bank holds for the account (Paystack's resolve). */
    t.text('account_name').notNullable()
    /** The full number, needed to create the recipient again; never shown to anyone. */
    t.text('account_number').notNullable()
    t.text('account_number_last4').notNullable()
    t.text('recipient_code').notNullable()
    t.text('currency').notNullable().defaultTo('NGN')
    t.timestamp('verified_at', { useTz: true }).notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table payout_accounts
    add constraint payout_accounts_number_check check (account_number ~ '^[0-9]{10}$' and account_number_last4 = right(account_number, 4))`)

  await knex.schema.createTable('payouts', (t) => {
    t.uuid('id').primary()
    t.uuid('seller_id').notNullable().references('users.id').onDelete('RESTRICT')
    t.bigInteger('amount').notNullable()
    t.text('currency').notNullable().defaultTo('NGN')
    t.text('status').notNullable().defaultTo('pending')
    /** Ours, sent with the transfer (`oja-po-<id without dashes>`): a retry is the same transfer. */
    t.text('reference').notNullable().unique()
    /** The recipient at the time of the request (a later account change does not redirect it). */
    t.text('recipient_code').notNullable()
    t.text('bank_name').notNullable()
    t.text('account_number_last4').notNullable()
    t.text('transfer_code')
    /** What Paystack said last (verify or the transfer's answer). */
    t.text('provider_status')
    t.text('failure_reason')
    t.text('last_error')
    /** Sends and verifications started. */
    t.integer('attempts').notNullable().defaultTo(0)
    /** When the sweeper next sends (pending) or verifies (processing) it. */
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    /** Held by the node sending or verifying it right now (a crash frees it when it runs out). */
    t.timestamp('lease_until', { useTz: true })
    /** The Idempotency-Key of the request that made it. */
    t.text('idempotency_key')
    /** Admins were told it waits for Paystack's balance (`payout_pending`), or for an OTP (`payout_otp`): once each. */
    t.timestamp('balance_alert_at', { useTz: true })
    t.timestamp('otp_alert_at', { useTz: true })
    t.timestamp('last_verified_at', { useTz: true })
    /** Set when Paystack paid it (kept when it is reversed later: it had been paid). */
    t.timestamp('paid_at', { useTz: true })
    t.timestamp('failed_at', { useTz: true })
    t.timestamp('reversed_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table payouts
    add constraint payouts_status_check check (status in ('pending','processing','paid','failed','reversed')),
    add constraint payouts_amount_check check (amount > 0),
    add constraint payouts_paid_check check (status <> 'paid' or paid_at is not null)`)
  await knex.raw('create index payouts_seller_page on payouts (seller_id, created_at desc, id desc)')
  await knex.raw('create index payouts_status_page on payouts (status, created_at desc, id desc)')
  await knex.raw('create index payouts_page on payouts (created_at desc, id desc)')
  // The sweeper's work: payouts still on their way.
  await knex.raw("create index payouts_due on payouts (next_attempt_at) where status in ('pending', 'processing')")
  await knex.raw(
    'create unique index payouts_idempotency_key on payouts (seller_id, idempotency_key) where idempotency_key is not null',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('payouts')
  await knex.schema.dropTableIfExists('payout_accounts')
}
