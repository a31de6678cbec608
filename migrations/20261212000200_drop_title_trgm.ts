import type { Knex } from 'knex'

const ON_SALE = "status = 'active' and not seller_banned"

/**
 * The trigram index on titles goes: the typo fallback no longer matches titles by trigram
 * (it corrects the query against listing_words, migration 20261212000100), and nothing else
 * reads it, while every insert and title edit paid for it (47 MB, 15 s to build at 1M
 * listings).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists listings_active_title_trgm')
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`create index listings_active_title_trgm on listings using gin (title gin_trgm_ops) where ${ON_SALE}`)
}
