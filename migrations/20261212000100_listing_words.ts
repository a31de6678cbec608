import type { Knex } from 'knex'

/**
 * The words of listing titles (issue 16, target 4): the dictionary that corrects a misspelt
 * search query, as PostgreSQL's pg_trgm documentation suggests for spelling suggestions.
 * One row per distinct lowercased word (`to_tsvector('simple', title)`: the lexemes of the
 * `simple` configuration, which lowercases and does not stem), with a trigram GiST index so
 * a word's nearest neighbours come from a KNN scan (`<->`) of a few thousand words rather
 * than a trigram match over the titles of a million listings.
 *
 * Words are only added: a statement trigger on insert and a row trigger on a title change
 * add the new words with `on conflict do nothing`, so creating a listing never waits on
 * another listing's words (a shared counter row per common word would). `ndoc` (how many
 * listings had the word) is a tie-breaker only: the backfill and listing_words_recount()
 * (after a bulk load, or from time to time) set it; a word added since counts 1.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table listing_words (
    word text primary key,
    ndoc integer not null default 1
  )`)
  await knex.raw('create index listing_words_trgm on listing_words using gist (word gist_trgm_ops)')

  await knex.raw(`create function listing_words_recount() returns void language sql as $$
    insert into listing_words (word, ndoc)
    select word, ndoc from ts_stat($q$select to_tsvector('simple', title) from listings$q$)
    on conflict (word) do update set ndoc = excluded.ndoc where listing_words.ndoc <> excluded.ndoc
  $$`)
  await knex.raw('select listing_words_recount()')

  // Inserts: once per statement, so a bulk insert adds its words in one statement too.
  await knex.raw(`create function listing_words_inserted() returns trigger language plpgsql as $$
    begin
      insert into listing_words (word)
      select distinct t.lexeme from new_rows n, unnest(to_tsvector('simple', n.title)) t
      order by 1
      on conflict do nothing;
      return null;
    end $$`)
  await knex.raw(`create trigger listing_words_inserted after insert on listings
    referencing new table as new_rows for each statement execute function listing_words_inserted()`)

  // Title edits: per row, and only when the title changed.
  await knex.raw(`create function listing_words_retitled() returns trigger language plpgsql as $$
    begin
      insert into listing_words (word)
      select distinct t.lexeme from unnest(to_tsvector('simple', new.title)) t
      order by 1
      on conflict do nothing;
      return null;
    end $$`)
  await knex.raw(`create trigger listing_words_retitled after update of title on listings
    for each row when (old.title is distinct from new.title) execute function listing_words_retitled()`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists listing_words_retitled on listings')
  await knex.raw('drop function if exists listing_words_retitled()')
  await knex.raw('drop trigger if exists listing_words_inserted on listings')
  await knex.raw('drop function if exists listing_words_inserted()')
  await knex.raw('drop function if exists listing_words_recount()')
  await knex.raw('drop table if exists listing_words')
}
