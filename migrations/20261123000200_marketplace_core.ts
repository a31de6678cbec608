import type { Knex } from 'knex'

/**
 * The tables several features share: listings and their reservations (catalogue and
 * commerce), conversations, messages and offers (catalogue's want responses, chat, cart).
 * Each feature adds its own columns and indexes in its own migrations.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('listings', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('seller_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('title').notNullable()
    t.text('description').notNullable().defaultTo('')
    t.text('type').notNullable()
    t.bigInteger('price').notNullable()
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.text('condition').notNullable()
    t.uuid('category_id').notNullable().references('categories.id')
    t.integer('quantity').notNullable().defaultTo(1)
    t.integer('sold_quantity').notNullable().defaultTo(0)
    t.text('status').notNullable().defaultTo('active')
    t.text('city')
    t.text('state')
    t.double('lat')
    t.double('lng')
    t.text('removed_reason')
    t.timestamp('published_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['seller_id', 'created_at'])
  })
  await knex.raw(`alter table listings
    add constraint listings_type_check check (type in ('sale','giveaway')),
    add constraint listings_status_check check (status in ('draft','active','sold','removed')),
    add constraint listings_condition_check check (condition in ('new','like_new','good','fair')),
    add constraint listings_price_check check (price >= 0 and (type = 'sale' and price > 0 or type = 'giveaway' and price = 0)),
    add constraint listings_quantity_check check (quantity >= 1 and sold_quantity >= 0 and sold_quantity <= quantity),
    add constraint listings_geo_check check ((lat is null) = (lng is null) and (lat is null or (lat between -90 and 90 and lng between -180 and 180)))`)

  // Stock held by a checkout until it is paid (converted) or released; a reservation whose
  // expires_at has passed no longer counts, even before the sweeper releases it.
  await knex.schema.createTable('reservations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('order_id')
    t.integer('quantity').notNullable()
    t.timestamp('expires_at', { useTz: true }).notNullable()
    t.timestamp('released_at', { useTz: true })
    t.timestamp('converted_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['order_id'])
  })
  await knex.raw('alter table reservations add constraint reservations_quantity_check check (quantity >= 1)')
  await knex.raw(
    'create index reservations_live on reservations (listing_id, expires_at) where released_at is null and converted_at is null',
  )

  await knex.schema.createTable('conversations', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('listing_id').references('listings.id').onDelete('SET NULL')
    t.uuid('want_id')
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('seller_id').notNullable().references('users.id').onDelete('CASCADE')
    t.timestamp('last_message_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['buyer_id', 'last_message_at'])
    t.index(['seller_id', 'last_message_at'])
  })
  await knex.raw(
    'create unique index conversations_listing_pair on conversations (listing_id, buyer_id, seller_id) where listing_id is not null',
  )
  await knex.raw(
    'create unique index conversations_want_pair on conversations (want_id, buyer_id, seller_id) where want_id is not null and listing_id is null',
  )
  await knex.raw('alter table conversations add constraint conversations_parties_check check (buyer_id <> seller_id)')

  await knex.schema.createTable('offers', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('conversation_id').notNullable().references('conversations.id').onDelete('CASCADE')
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('seller_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('created_by').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('parent_offer_id').references('offers.id').onDelete('SET NULL')
    t.bigInteger('amount').notNullable()
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.text('status').notNullable().defaultTo('pending')
    t.timestamp('expires_at', { useTz: true })
    t.timestamp('responded_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['conversation_id', 'created_at'])
  })
  await knex.raw(`alter table offers
    add constraint offers_status_check check (status in ('pending','accepted','declined','countered','withdrawn','expired')),
    add constraint offers_amount_check check (amount > 0)`)
  // One accepted offer per buyer and listing at a time (an expired one is moved to 'expired').
  await knex.raw("create unique index offers_one_accepted on offers (buyer_id, listing_id) where status = 'accepted'")

  await knex.schema.createTable('messages', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('conversation_id').notNullable().references('conversations.id').onDelete('CASCADE')
    t.uuid('sender_id').references('users.id').onDelete('SET NULL')
    t.text('kind').notNullable().defaultTo('text')
    t.text('body').notNullable()
    t.uuid('offer_id').references('offers.id').onDelete('SET NULL')
    t.text('client_id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw("alter table messages add constraint messages_kind_check check (kind in ('text','offer','system'))")
  await knex.raw('create index messages_conversation_page on messages (conversation_id, created_at desc, id desc)')
  await knex.raw(
    'create unique index messages_client_id on messages (conversation_id, sender_id, client_id) where client_id is not null',
  )
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['messages', 'offers', 'conversations', 'reservations', 'listings'])
    await knex.schema.dropTableIfExists(table)
}
