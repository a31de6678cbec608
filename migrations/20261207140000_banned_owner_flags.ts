import type { Knex } from 'knex'

/**
 * A banned user's listings and wants leave every public path (hardening item 10). The ban is
 * copied onto their rows (`listings.seller_banned`, `wants.author_banned`), set and cleared in
 * the ban's and the unban's transaction, so the hot search reads no `users` row: search adds
 * the literal `not l.seller_banned` and the partial indexes that serve it carry the same
 * predicate (`status = 'active' and not seller_banned`), so they stay as small and as
 * index-only as before.
 *
 * The indexes are rebuilt under temporary names first and swapped in at the end: while they
 * build (about 70 s at 1M listings) reads of listings go on and writes wait; the old ones are
 * dropped just before the commit.
 */
const ON_SALE = "status = 'active' and not seller_banned"
const LISTING_INDEXES: [name: string, definition: (predicate: string) => string][] = [
  ['listings_active_newest', (p) => `on listings (published_at desc, id desc) where ${p}`],
  ['listings_active_price', (p) => `on listings (price, id) where ${p}`],
  ['listings_active_category_newest', (p) => `on listings (category_id, published_at desc, id desc) where ${p}`],
  ['listings_active_category_price', (p) => `on listings (category_id, price, id) where ${p}`],
  ['listings_active_seller', (p) => `on listings (seller_id, published_at desc, id desc) where ${p}`],
  ['listings_active_giveaway', (p) => `on listings (published_at desc, id desc) where ${p} and type = 'giveaway'`],
  ['listings_active_condition', (p) => `on listings (condition, published_at desc, id desc) where ${p}`],
  ['listings_active_search', (p) => `on listings using gin (search_vector) where ${p}`],
  ['listings_active_title_trgm', (p) => `on listings using gin (title gin_trgm_ops) where ${p}`],
  ['listings_active_geo', (p) => `on listings using gist (ll_to_earth(lat, lng)) where ${p} and lat is not null`],
]

async function rebuild(knex: Knex, predicate: string): Promise<void> {
  for (const [name, definition] of LISTING_INDEXES) await knex.raw(`create index ${name}_next ${definition(predicate)}`)
  for (const [name] of LISTING_INDEXES) {
    await knex.raw(`drop index if exists ${name}`)
    await knex.raw(`alter index ${name}_next rename to ${name}`)
  }
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table listings add column seller_banned boolean not null default false')
  await knex.raw('alter table wants add column author_banned boolean not null default false')
  // Users banned before this migration.
  await knex.raw(
    'update listings l set seller_banned = true from users u where u.id = l.seller_id and u.banned_at is not null',
  )
  await knex.raw(
    'update wants w set author_banned = true from users u where u.id = w.user_id and u.banned_at is not null',
  )
  await rebuild(knex, ON_SALE)
}

export async function down(knex: Knex): Promise<void> {
  await rebuild(knex, "status = 'active'")
  await knex.raw('alter table wants drop column if exists author_banned')
  await knex.raw('alter table listings drop column if exists seller_banned')
}
