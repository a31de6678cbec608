import type { Knex } from 'knex'

/** Reviews of sellers, their flags, and per-seller rating counters kept in the same transactions. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('reviews', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'))
    t.uuid('shipment_id').notNullable().unique().references('shipments.id').onDelete('CASCADE')
    t.uuid('order_id').notNullable().references('orders.id').onDelete('CASCADE')
    t.uuid('buyer_id').notNullable().references('users.id').onDelete('CASCADE')
    t.uuid('seller_id').notNullable().references('users.id').onDelete('CASCADE')
    t.smallint('rating').notNullable()
    t.text('body').notNullable()
    t.text('status').notNullable().defaultTo('visible')
    t.text('reply_body')
    t.timestamp('replied_at', { useTz: true })
    t.integer('open_flags').notNullable().defaultTo(0)
    t.text('moderation_note')
    t.uuid('moderated_by').references('users.id').onDelete('SET NULL')
    t.timestamp('moderated_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.raw(`alter table reviews
    add constraint reviews_rating_check check (rating between 1 and 5),
    add constraint reviews_status_check check (status in ('visible','hidden')),
    add constraint reviews_not_self check (buyer_id <> seller_id),
    add constraint reviews_open_flags_check check (open_flags >= 0)`)
  await knex.raw(
    "create index reviews_seller_visible on reviews (seller_id, created_at desc, id desc) where status = 'visible'",
  )
  await knex.raw(
    "create index reviews_flagged on reviews (created_at desc, id desc) where open_flags > 0 and status = 'visible'",
  )
  await knex.raw('create index reviews_status_page on reviews (status, created_at desc, id desc)')

  await knex.schema.createTable('review_flags', (t) => {
    t.uuid('review_id').notNullable().references('reviews.id').onDelete('CASCADE')
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.text('reason').notNullable()
    t.timestamp('resolved_at', { useTz: true })
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['review_id', 'user_id'])
  })

  // One row per seller: counts of visible reviews by star. Average and histogram derive
  // from it; every change to a review's visibility updates it in the same transaction.
  await knex.schema.createTable('seller_ratings', (t) => {
    t.uuid('seller_id').primary().references('users.id').onDelete('CASCADE')
    for (const star of [1, 2, 3, 4, 5]) t.integer(`stars_${star}`).notNullable().defaultTo(0)
  })
  await knex.raw(
    'alter table seller_ratings add constraint seller_ratings_nonnegative check (least(stars_1, stars_2, stars_3, stars_4, stars_5) >= 0)',
  )
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['seller_ratings', 'review_flags', 'reviews']) await knex.schema.dropTableIfExists(table)
}
