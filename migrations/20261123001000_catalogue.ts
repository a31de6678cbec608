import type { Knex } from 'knex'

/**
 * The catalogue (issue 3): search columns and indexes on listings, listing photos, wishlists,
 * wants, listing reports, and the outbox of stored files still to delete.
 *
 * Every index that serves public browsing is partial on `status = 'active'` (the only rows
 * search returns), which keeps them smaller than the table and lets the planner prove the
 * predicate from the literal in the queries of src/listings/listings.search.ts.
 */
export async function up(knex: Knex): Promise<void> {
  // Radius search and distance sorting: GiST over ll_to_earth(lat, lng) (cube + earthdistance
  // ship with PostgreSQL and with PGlite's contrib). See the README for the choice.
  await knex.raw('create extension if not exists cube')
  await knex.raw('create extension if not exists earthdistance')

  // Full-text search: title weighs A, description B, English stemming.
  await knex.raw(`alter table listings add column search_vector tsvector generated always as (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')
  ) stored`)

  // An active or sold listing always has a publication time (the newest sort and its keyset
  // cursor rely on it), whichever code path inserted it.
  await knex.raw(`create function listings_published_at() returns trigger language plpgsql as $$
    begin
      if new.status <> 'draft' and new.published_at is null then new.published_at := now(); end if;
      return new;
    end $$`)
  await knex.raw(`create trigger listings_published_at before insert or update of status on listings
    for each row execute function listings_published_at()`)
  await knex.raw("update listings set published_at = created_at where status <> 'draft' and published_at is null")

  const active = "where status = 'active'"
  await knex.raw(`create index listings_active_newest on listings (published_at desc, id desc) ${active}`)
  await knex.raw(`create index listings_active_price on listings (price, id) ${active}`)
  await knex.raw(
    `create index listings_active_category_newest on listings (category_id, published_at desc, id desc) ${active}`,
  )
  await knex.raw(`create index listings_active_category_price on listings (category_id, price, id) ${active}`)
  await knex.raw(`create index listings_active_seller on listings (seller_id, published_at desc, id desc) ${active}`)
  await knex.raw(
    `create index listings_active_giveaway on listings (published_at desc, id desc) where status = 'active' and type = 'giveaway'`,
  )
  await knex.raw(`create index listings_active_condition on listings (condition, published_at desc, id desc) ${active}`)
  await knex.raw(`create index listings_active_search on listings using gin (search_vector) ${active}`)
  await knex.raw(`create index listings_active_title_trgm on listings using gin (title gin_trgm_ops) ${active}`)
  await knex.raw(
    `create index listings_active_geo on listings using gist (ll_to_earth(lat, lng)) where status = 'active' and lat is not null`,
  )
  // A seller's own listings in every status (GET /v1/me/listings).
  await knex.raw('create index listings_seller_all on listings (seller_id, created_at desc, id desc)')

  await knex.schema.createTable('listing_images', (t) => {
    t.uuid('id').primary()
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.integer('position').notNullable()
    // {thumb|medium|large: {pathname, url, width, height, bytes}}
    t.jsonb('variants').notNullable()
    t.integer('width').notNullable()
    t.integer('height').notNullable()
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  // Deferred, so a reorder may swap positions inside one statement.
  await knex.raw(
    'alter table listing_images add constraint listing_images_position_key unique (listing_id, position) deferrable initially deferred',
  )
  await knex.raw('alter table listing_images add constraint listing_images_position_check check (position >= 0)')

  // Files to delete from the blob store. An upload records its files here first (due in an
  // hour) and the row goes in the transaction that stores the image; a removal adds its
  // files in its own transaction. Whatever a crash or a storage outage leaves behind, the
  // sweeper deletes later, so no file outlives its row.
  await knex.schema.createTable('blob_deletions', (t) => {
    t.bigIncrements('id').primary()
    t.text('pathname').notNullable()
    t.timestamp('due_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.integer('attempts').notNullable().defaultTo(0)
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['due_at'])
  })

  await knex.schema.createTable('wishlists', (t) => {
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['user_id', 'listing_id'])
  })
  // The price-drop fan-out reads every wishlister of one listing.
  await knex.raw('create index wishlists_listing on wishlists (listing_id, user_id)')
  await knex.raw('create index wishlists_user_page on wishlists (user_id, created_at desc, listing_id desc)')

  await knex.schema.createTable('wants', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('title').notNullable()
    t.text('description').notNullable().defaultTo('')
    t.uuid('category_id').references('categories.id').onDelete('SET NULL')
    t.bigInteger('max_price')
    t.string('currency', 3).notNullable().defaultTo('NGN')
    t.text('city')
    t.text('state')
    t.double('lat')
    t.double('lng')
    t.text('status').notNullable().defaultTo('open')
    t.timestamp('closed_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table wants
    add constraint wants_status_check check (status in ('open','closed')),
    add constraint wants_max_price_check check (max_price is null or max_price >= 0),
    add constraint wants_geo_check check ((lat is null) = (lng is null) and (lat is null or (lat between -90 and 90 and lng between -180 and 180)))`)
  await knex.raw(`alter table wants add column search_vector tsvector generated always as (
    setweight(to_tsvector('english', coalesce(title, '')), 'A') || setweight(to_tsvector('english', coalesce(description, '')), 'B')
  ) stored`)
  // What a new listing must contain to match the want: every meaningful word of its title.
  await knex.raw(
    "alter table wants add column match_query tsquery generated always as (plainto_tsquery('english', title)) stored",
  )
  await knex.raw("create index wants_open_search on wants using gin (search_vector) where status = 'open'")
  await knex.raw("create index wants_open_newest on wants (created_at desc, id desc) where status = 'open'")
  await knex.raw(
    "create index wants_open_category on wants (category_id, created_at desc, id desc) where status = 'open'",
  )
  await knex.raw('create index wants_user_page on wants (user_id, created_at desc, id desc)')

  await knex.schema.createTable('listing_reports', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.uuid('reporter_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('reason').notNullable()
    t.text('detail')
    t.text('status').notNullable().defaultTo('open')
    t.uuid('resolved_by').references('users.id').onDelete('SET NULL')
    t.timestamp('resolved_at', { useTz: true })
    t.text('resolution_note')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['listing_id'])
  })
  await knex.raw(`alter table listing_reports
    add constraint listing_reports_reason_check check (reason in ('prohibited','scam','counterfeit','offensive','wrong_category','duplicate','other')),
    add constraint listing_reports_status_check check (status in ('open','dismissed','actioned'))`)
  // One open report per reporter and listing; the admin queue pages by status and age.
  await knex.raw(
    "create unique index listing_reports_one_open on listing_reports (listing_id, reporter_id) where status = 'open'",
  )
  await knex.raw('create index listing_reports_queue on listing_reports (status, created_at desc, id desc)')
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['listing_reports', 'wants', 'wishlists', 'blob_deletions', 'listing_images'])
    await knex.schema.dropTableIfExists(table)
  for (const index of [
    'listings_active_newest',
    'listings_active_price',
    'listings_active_category_newest',
    'listings_active_category_price',
    'listings_active_seller',
    'listings_active_giveaway',
    'listings_active_condition',
    'listings_active_search',
    'listings_active_title_trgm',
    'listings_active_geo',
    'listings_seller_all',
  ]) {
    await knex.raw(`drop index if exists ${index}`)
  }
  await knex.raw('drop trigger if exists listings_published_at on listings')
  await knex.raw('drop function if exists listings_published_at()')
  await knex.raw('alter table listings drop column if exists search_vector')
}
