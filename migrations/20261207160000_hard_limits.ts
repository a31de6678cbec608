import type { Knex } from 'knex'

/**
 * Abuse limits: an offer is for a number of units; price-drop alerts remember, per listing
 * and user, the lowest price already alerted and when; the buyer's live reservations are
 * counted through an index of their own.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table offers add column quantity integer not null default 1')
  await knex.raw('alter table offers add constraint offers_quantity_check check (quantity >= 1)')

  await knex.schema.createTable('price_drop_alerts', (t) => {
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    t.uuid('user_id').notNullable().references('users.id').onDelete('CASCADE')
    t.bigInteger('lowest_price').notNullable()
    t.timestamp('alerted_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['listing_id', 'user_id'])
  })

  await knex.raw(
    'create index reservations_buyer_live on reservations (buyer_id, expires_at) where released_at is null and converted_at is null',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists reservations_buyer_live')
  await knex.schema.dropTableIfExists('price_drop_alerts')
  await knex.raw('alter table offers drop constraint if exists offers_quantity_check')
  await knex.raw('alter table offers drop column if exists quantity')
}
