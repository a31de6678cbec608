import type { Knex } from 'knex'

/**
 * The price-drop outbox (issue 16): a seller's PATCH that lowers a price writes one row here
 * in its own transaction; workers on any node expand it into the wishlisters' `price_drop`
 * notifications in batches, each batch one transaction that also advances `cursor_user_id`
 * (the last wishlister done, in user id order), so a crash resumes where it stopped.
 * A later drop of the same listing supersedes a pending one (`outcome = 'superseded'`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('price_drop_fanouts', (t) => {
    t.bigIncrements('id').primary()
    t.uuid('listing_id').notNullable().references('listings.id').onDelete('CASCADE')
    /** The price the wishlisters last knew and the new one (kobo), in the listing's currency. */
    t.bigInteger('old_price').notNullable()
    t.bigInteger('new_price').notNullable()
    t.string('currency', 3).notNullable()
    /** The last wishlister (user id) whose turn is done; null before the first batch. */
    t.uuid('cursor_user_id')
    t.integer('batches').notNullable().defaultTo(0)
    t.integer('alerted').notNullable().defaultTo(0)
    /** Failed batches (rolled back) and when the row may be tried again. */
    t.integer('attempts').notNullable().defaultTo(0)
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.text('last_error')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('finished_at', { useTz: true })
    t.text('outcome')
  })
  await knex.raw(`alter table price_drop_fanouts
    add constraint price_drop_fanouts_outcome_check check (outcome in ('done','superseded','withdrawn')),
    add constraint price_drop_fanouts_finished_check check ((finished_at is null) = (outcome is null)),
    add constraint price_drop_fanouts_drop_check check (new_price < old_price)`)
  // What the workers claim, and a listing's pending drops (a later one supersedes).
  await knex.raw('create index price_drop_fanouts_pending on price_drop_fanouts (id) where finished_at is null')
  await knex.raw(
    'create index price_drop_fanouts_listing_pending on price_drop_fanouts (listing_id, id) where finished_at is null',
  )
  await knex.raw(
    'create index price_drop_fanouts_finished on price_drop_fanouts (finished_at) where finished_at is not null',
  )
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('price_drop_fanouts')
}
