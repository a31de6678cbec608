import type { Knex } from 'knex'

/**
 * Chat and offers on top of the shared tables: an activity time to page "my conversations"
 * by, per-participant read pointers (unread counts and read receipts), length limits on
 * messages, and at most one pending offer per conversation and listing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table conversations add column last_activity_at timestamptz not null default now()')
  await knex.raw('update conversations set last_activity_at = coalesce(last_message_at, created_at)')
  // "My conversations, newest activity first": one keyset index per side of the conversation.
  await knex.raw(
    'create index conversations_buyer_activity on conversations (buyer_id, last_activity_at desc, id desc)',
  )
  await knex.raw(
    'create index conversations_seller_activity on conversations (seller_id, last_activity_at desc, id desc)',
  )

  // How far each participant has read: a pointer to a message (its sort key is copied so
  // unread counts compare keys without a join). The pointer only ever moves forward.
  await knex.schema.createTable('conversation_reads', (t) => {
    t.uuid('conversation_id').notNullable().references('conversations.id').onDelete('CASCADE')
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('message_id').notNullable()
    t.timestamp('message_created_at', { useTz: true }).notNullable()
    t.timestamp('read_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['conversation_id', 'user_id'])
  })

  await knex.raw(`alter table messages
    add constraint messages_body_length check (char_length(body) between 1 and 4000),
    add constraint messages_client_id_length check (client_id is null or char_length(client_id) between 1 and 64)`)
  await knex.raw(
    "create unique index offers_one_pending on offers (conversation_id, listing_id) where status = 'pending'",
  )
  await knex.raw("create index offers_accepted_expiry on offers (expires_at) where status = 'accepted'")
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists offers_accepted_expiry')
  await knex.raw('drop index if exists offers_one_pending')
  await knex.raw(
    'alter table messages drop constraint if exists messages_client_id_length, drop constraint if exists messages_body_length',
  )
  await knex.schema.dropTableIfExists('conversation_reads')
  await knex.raw('drop index if exists conversations_seller_activity')
  await knex.raw('drop index if exists conversations_buyer_activity')
  await knex.raw('alter table conversations drop column if exists last_activity_at')
}
