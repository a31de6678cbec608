import type { Knex } from 'knex'

/**
 * The unread-messages digest (src/digest): each user's digest switch and how far their
 * digests have covered, one row per burst handled (mailed, or closed because the user was
 * online: a burst is handled once), and how far the sweeper has read the messages. Messages
 * get an index on their time, which the sweeper reads them by, a few seconds at a time.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('digest_settings', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE')
    /** Turned off by the mail's unsubscribe link. */
    t.boolean('off').notNullable().defaultTo(false)
    /** When the last digest mail was queued. */
    t.timestamp('last_digest_at', { useTz: true })
    /** The newest message a digest (mailed or closed) has covered: later ones start the next burst. */
    t.timestamp('covered_until', { useTz: true })
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })

  await knex.schema.createTable('digest_runs', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    /** The first unread message of the burst. */
    t.timestamp('burst_start', { useTz: true }).notNullable()
    t.text('outcome').notNullable()
    t.integer('conversations').notNullable()
    t.integer('messages').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'burst_start'])
  })
  await knex.raw(
    "alter table digest_runs add constraint digest_runs_outcome_check check (outcome in ('mailed','online'))",
  )
  await knex.raw('create index digest_runs_created on digest_runs (created_at)')

  // One row: the last message (time, id) the sweeper has looked at.
  await knex.schema.createTable('digest_cursor', (t) => {
    t.boolean('id').primary().defaultTo(true)
    t.timestamp('scanned_at', { useTz: true }).notNullable()
    t.uuid('scanned_id').notNullable()
  })
  await knex.raw('alter table digest_cursor add constraint digest_cursor_one_row check (id)')

  await knex.raw('create index messages_created on messages (created_at, id)')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists messages_created')
  await knex.schema.dropTableIfExists('digest_cursor')
  await knex.schema.dropTableIfExists('digest_runs')
  await knex.schema.dropTableIfExists('digest_settings')
}
