import type { Knex } from 'knex'

/**
 * A refund queued here that Paystack never accepted can end `cancelled`: a refund made on
 * Paystack's dashboard meanwhile left nothing of the order to refund (it keeps the amount it
 * asked for and no longer counts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`alter table refunds
    drop constraint refunds_status_check,
    add constraint refunds_status_check check (status in ('pending','processing','processed','failed','cancelled'))`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`alter table refunds
    drop constraint refunds_status_check,
    add constraint refunds_status_check check (status in ('pending','processing','processed','failed'))`)
}
