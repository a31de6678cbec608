import type { Knex } from 'knex'

/**
 * Account lifecycle (src/accounts/lifecycle.*): when each session was last used (set at
 * sign-in and at every refresh), the address an email-change link switches the account to,
 * and when an account was erased. An erased account keeps its row (orders, ledger entries,
 * payouts, disputes and audit rows point at its id) with everything personal scrubbed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('sessions', (t) => {
    t.timestamp('last_used_at', { useTz: true })
  })
  await knex.raw('update sessions set last_used_at = created_at')
  await knex.raw(
    'alter table sessions alter column last_used_at set default now(), alter column last_used_at set not null',
  )

  await knex.schema.alterTable('user_tokens', (t) => {
    /** Set on a `verify_email` token mailed by an email change: using it switches the account to this address. */
    t.text('new_email')
  })

  await knex.schema.alterTable('users', (t) => {
    t.timestamp('deleted_at', { useTz: true })
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => t.dropColumn('deleted_at'))
  await knex.schema.alterTable('user_tokens', (t) => t.dropColumn('new_email'))
  await knex.schema.alterTable('sessions', (t) => t.dropColumn('last_used_at'))
}
