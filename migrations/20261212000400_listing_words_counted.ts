import type { Knex } from 'knex'

/**
 * When listing_words' counts (`ndoc`, the typo correction's tie-breaker) were last recounted:
 * one row, read by the listings feature's weekly job (LISTING_WORDS_RECOUNT_HOURS). The words
 * themselves are added by triggers as listings are written; only their counts age.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table listing_words_counted (
    id boolean primary key default true check (id),
    counted_at timestamptz not null default now()
  )`)
  // The migration that made listing_words counted them.
  await knex.raw('insert into listing_words_counted default values')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists listing_words_counted')
}
