import type { Knex } from 'knex'

/**
 * Push notifications: the devices signed-in sessions registered (a device ends with its
 * session: deleted with it, and deleted by a trigger the moment the session is revoked, on
 * every path that revokes one), each user's notification preferences, muted conversations,
 * and the push outbox (rows written in the transaction of the event that causes them,
 * claimed by workers with SKIP LOCKED and a lease, expanded to one row per device).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('push_devices', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('session_id').notNullable().references('sessions.id').onDelete('CASCADE')
    t.text('platform').notNullable()
    /** FCM registration token or Expo push token. */
    t.text('token')
    /** Web Push subscription. */
    t.text('endpoint')
    t.text('p256dh')
    t.text('auth')
    t.text('locale')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('last_push_at', { useTz: true })
    t.index(['user_id'])
    t.index(['session_id'])
  })
  // One row per push address: the same token (or endpoint) registered again is the same device.
  await knex.raw(
    'alter table push_devices add column address text generated always as (coalesce(token, endpoint)) stored',
  )
  await knex.raw(`alter table push_devices
    add constraint push_devices_platform_check check (platform in ('webpush','fcm','expo')),
    add constraint push_devices_address_check check (
      case when platform = 'webpush'
           then token is null and endpoint is not null and p256dh is not null and auth is not null
           else token is not null and endpoint is null and p256dh is null and auth is null end),
    add constraint push_devices_address_length check (char_length(address) <= 4096)`)
  await knex.raw('create unique index push_devices_address on push_devices (platform, address)')

  // Sessions are revoked (logout, password reset or change, refresh-token reuse, ban,
  // account erasure), not deleted: the session's devices go in the same statement.
  await knex.raw(`create function push_devices_end_with_session() returns trigger language plpgsql as $$
    begin
      delete from push_devices where session_id = new.id;
      return null;
    end $$`)
  await knex.raw(`create trigger sessions_revoked_push_devices after update of revoked_at on sessions
    for each row when (new.revoked_at is not null and old.revoked_at is null)
    execute function push_devices_end_with_session()`)

  await knex.schema.createTable('notification_preferences', (t) => {
    t.uuid('user_id').primary().references('users.id').onDelete('CASCADE')
    /** Only what the user switched: `{<type>: boolean}`; a type not listed is on. */
    t.jsonb('push').notNullable().defaultTo('{}')
    t.jsonb('email').notNullable().defaultTo('{}')
    /** `{start:"22:00", end:"07:00", timeZone:"Africa/Lagos"}` or null. */
    t.jsonb('quiet_hours')
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })

  // A participant's mute of a conversation (chat's rows): no push, no digest for it.
  await knex.schema.createTable('conversation_mutes', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('conversation_id').notNullable().references('conversations.id').onDelete('CASCADE')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'conversation_id'])
  })

  await knex.schema.createTable('push_outbox', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    /** Null: the user's row, written with the event; set: one device's delivery, made by the worker. */
    t.uuid('device_id').references('push_devices.id').onDelete('CASCADE')
    /** A device row's user row. */
    t.uuid('parent_id')
    /** The notification type the push is about (`message`, `offer`, `order_status`, ...). */
    t.text('kind').notNullable()
    t.bigInteger('event_seq')
    t.uuid('notification_id')
    /** The causing event's data (user rows). */
    t.jsonb('source')
    /** The message sent: `{title, body, data, collapseKey?, badge?, silent?, ttlSeconds?}` (device rows). */
    t.jsonb('payload')
    /** Pushes of one thing written by several events of a transaction (an offer's message and notification) share it. */
    t.text('dedupe_key')
    t.text('status').notNullable().defaultTo('pending')
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('claimed_until', { useTz: true })
    t.uuid('claim_token')
    t.timestamp('sent_at', { useTz: true })
    t.text('provider_id')
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table push_outbox
    add constraint push_outbox_status_check check (status in ('pending','expanded','sent','dropped','failed'))`)
  await knex.raw(
    'create unique index push_outbox_dedupe on push_outbox (user_id, dedupe_key) where dedupe_key is not null',
  )
  await knex.raw("create index push_outbox_due on push_outbox (next_attempt_at) where status = 'pending'")
  await knex.raw("create index push_outbox_finished on push_outbox (created_at) where status <> 'pending'")
  await knex.raw('create index push_outbox_device on push_outbox (device_id) where device_id is not null')
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('push_outbox')
  await knex.schema.dropTableIfExists('conversation_mutes')
  await knex.schema.dropTableIfExists('notification_preferences')
  await knex.raw('drop trigger if exists sessions_revoked_push_devices on sessions')
  await knex.raw('drop function if exists push_devices_end_with_session()')
  await knex.schema.dropTableIfExists('push_devices')
}
