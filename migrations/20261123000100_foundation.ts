import type { Knex } from 'knex'

/** Accounts, sessions, the event spine, notifications and the mail outbox. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists pg_trgm')

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('email').notNullable()
    t.text('password_hash').notNullable()
    t.text('name').notNullable()
    t.text('role').notNullable().defaultTo('user')
    t.timestamp('email_verified_at', { useTz: true })
    t.text('bio')
    t.text('location')
    t.text('avatar_url')
    t.timestamp('banned_at', { useTz: true })
    t.text('ban_reason')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw('create unique index users_email_key on users (lower(email))')
  await knex.raw("alter table users add constraint users_role_check check (role in ('user','admin'))")

  // A session is a refresh-token family: rotation keeps it, reuse or logout revokes it.
  await knex.schema.createTable('sessions', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('user_agent')
    t.text('ip')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('expires_at', { useTz: true }).notNullable()
    t.timestamp('revoked_at', { useTz: true })
    t.text('revoked_reason')
    t.index(['user_id'])
  })

  await knex.schema.createTable('refresh_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('session_id').notNullable().references('sessions.id').onDelete('CASCADE')
    t.text('token_hash').notNullable().unique()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('used_at', { useTz: true })
    t.index(['session_id'])
  })

  // Single-use tokens mailed to the user (email verification, password reset); only hashes are kept.
  await knex.schema.createTable('user_tokens', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('purpose').notNullable()
    t.text('token_hash').notNullable().unique()
    t.timestamp('expires_at', { useTz: true }).notNullable()
    t.timestamp('used_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['user_id', 'purpose'])
  })

  await knex.schema.createTable('addresses', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('full_name').notNullable()
    t.text('phone').notNullable()
    t.text('line1').notNullable()
    t.text('line2')
    t.text('city').notNullable()
    t.text('state').notNullable()
    t.string('country', 2).notNullable().defaultTo('NG')
    t.text('postal_code')
    t.boolean('is_default').notNullable().defaultTo(false)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['user_id', 'created_at'])
  })
  await knex.raw('create unique index addresses_one_default on addresses (user_id) where is_default')

  await knex.schema.createTable('blocks', (t) => {
    t.uuid('blocker_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('blocked_id').notNullable().references('users.id').onDelete('CASCADE')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['blocker_id', 'blocked_id'])
    t.index(['blocked_id'])
  })

  // The event spine. A user's counter row is locked by the transaction that takes the next
  // seq and stays locked until it commits, so a reader never sees seq n+1 before n.
  await knex.schema.createTable('user_event_counters', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE')
    t.bigInteger('last_seq').notNullable().defaultTo(0)
  })
  await knex.schema.createTable('user_events', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.bigInteger('seq').notNullable()
    t.text('event').notNullable()
    t.jsonb('data').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'seq'])
    t.index(['created_at'])
  })

  await knex.schema.createTable('notifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('type').notNullable()
    t.jsonb('data').notNullable()
    t.timestamp('read_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw('create index notifications_user_page on notifications (user_id, created_at desc, id desc)')
  await knex.raw(
    'create index notifications_user_unread on notifications (user_id, created_at desc, id desc) where read_at is null',
  )

  await knex.schema.createTable('mail_outbox', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('to_address').notNullable()
    t.text('subject').notNullable()
    t.text('text_body').notNullable()
    t.text('html_body')
    t.text('status').notNullable().defaultTo('pending')
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.text('last_error')
    t.timestamp('sent_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw("create index mail_outbox_due on mail_outbox (next_attempt_at) where status = 'pending'")

  await knex.schema.createTable('categories', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.text('name').notNullable()
    t.text('slug').notNullable().unique()
    t.uuid('parent_id').references('categories.id').onDelete('RESTRICT')
    t.integer('position').notNullable().defaultTo(0)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['parent_id'])
  })

  // Idempotency keys for POSTs that move money or stock: the first response is replayed.
  await knex.schema.createTable('idempotency_keys', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('key').notNullable()
    t.text('route').notNullable()
    t.text('request_hash').notNullable()
    t.integer('status_code')
    t.jsonb('response_body')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'route', 'key'])
    t.index(['created_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [
    'idempotency_keys',
    'categories',
    'mail_outbox',
    'notifications',
    'user_events',
    'user_event_counters',
    'blocks',
    'addresses',
    'user_tokens',
    'refresh_tokens',
    'sessions',
    'users',
  ]) {
    await knex.schema.dropTableIfExists(table)
  }
}
