import type { Knex } from 'knex'

/** The append-only audit trail: the database itself refuses UPDATE, DELETE and TRUNCATE. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_log', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.bigIncrements('position', { primaryKey: false })
    t.text('action').notNullable()
    t.uuid('actor_id')
    t.text('actor_role')
    t.text('target_type').notNullable()
    t.text('target_id').notNullable()
    t.jsonb('before')
    t.jsonb('after')
    t.text('note')
    t.text('request_id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['target_type', 'target_id'])
    t.index(['action', 'created_at'])
    t.index(['created_at'])
  })
  await knex.raw(`
    create function audit_log_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'audit_log is append-only' using errcode = 'insufficient_privilege';
    end $$`)
  await knex.raw(
    'create trigger audit_log_no_update before update or delete on audit_log for each row execute function audit_log_refuse_change()',
  )
  await knex.raw(
    'create trigger audit_log_no_truncate before truncate on audit_log for each statement execute function audit_log_refuse_change()',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists audit_log')
  await knex.raw('drop function if exists audit_log_refuse_change()')
}
