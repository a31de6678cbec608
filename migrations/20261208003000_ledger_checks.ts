import type { Knex } from 'knex'

/** The daily ledger check's runs: when, what it found (kept for admins and auditors). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ledger_checks', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('finished_at', { useTz: true })
    t.boolean('balanced')
    t.jsonb('mismatches')
    t.text('error')
    t.index(['started_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('ledger_checks')
}
