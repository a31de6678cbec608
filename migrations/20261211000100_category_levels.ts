import type { Knex } from 'knex'

/**
 * Browsing a category subtree with one index range scan, whatever the node (issue 16, target 3).
 *
 * - `categories.path`: the node's ancestors, root first, ending with the node itself. Kept by
 *   a trigger: set on insert and when `parent_id` changes; a move rewrites the paths of the
 *   node's descendants and the level columns of every listing under it (same transaction).
 * - `listings.category_l1 .. category_l4`: the listing category's path by level (l1 the root).
 *   A node at depth d holds exactly the listings whose `category_l<d>` is that node, so a
 *   subtree page is `category_l<d> = :node order by <sort> limit n`: one ordered range scan
 *   of `(category_l<d>, published_at desc, id desc)` or `(category_l<d>, price, id)`, partial
 *   on the same "on sale" predicate as the other browse indexes. Levels 2 to 4 are null above
 *   their depth and their indexes skip nulls, so they cost nothing for a shallower tree.
 *   Nodes deeper than 4 are still served (by the list of their subtree's ids).
 *   Set by a trigger on insert and when `category_id` changes, whatever code path writes.
 *
 * Concurrency: the listing trigger reads its category's path `for share`, which waits for a
 * move of that category (the move updates the row) and, once the move commits, reads the new
 * path; a move waits in turn for listing writes holding the share lock, and its listings
 * UPDATE then sees them.
 */
const CATEGORY_LEVELS = 4
const ON_SALE = "status = 'active' and not seller_banned"
const levels = Array.from({ length: CATEGORY_LEVELS }, (_, i) => i + 1)

export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table categories add column path uuid[]')
  await knex.raw(`with recursive t as (
      select id, array[id] as path from categories where parent_id is null
      union all
      select c.id, t.path || c.id from categories c join t on c.parent_id = t.id
    ) update categories c set path = t.path from t where t.id = c.id`)
  await knex.raw('alter table categories alter column path set not null')

  await knex.raw(`create function categories_path() returns trigger language plpgsql as $$
    declare parent_path uuid[];
    begin
      if new.parent_id is null then
        new.path := array[new.id];
      else
        select path into parent_path from categories where id = new.parent_id for share;
        new.path := parent_path || new.id;
      end if;
      return new;
    end $$`)
  await knex.raw(`create trigger categories_path before insert or update of parent_id on categories
    for each row execute function categories_path()`)

  const set = levels.map((n) => `category_l${n} = c.path[${n}]`).join(', ')
  const current = levels.map((n) => `l.category_l${n}`).join(', ')
  const wanted = levels.map((n) => `c.path[${n}]`).join(', ')
  await knex.raw(`create function categories_moved() returns trigger language plpgsql as $$
    declare depth int := cardinality(old.path);
    begin
      if new.path is distinct from old.path then
        update categories set path = new.path || path[depth + 1:]
          where path[1:depth] = old.path and id <> new.id;
        update listings l set ${set}
          from categories c
          where c.id = l.category_id and c.path[1:cardinality(new.path)] = new.path
            and (${current}) is distinct from (${wanted});
      end if;
      return null;
    end $$`)
  await knex.raw(`create trigger categories_moved after update of parent_id on categories
    for each row execute function categories_moved()`)

  for (const n of levels) await knex.raw(`alter table listings add column category_l${n} uuid`)
  await knex.raw(
    `update listings l set ${levels.map((n) => `category_l${n} = c.path[${n}]`).join(', ')} from categories c where c.id = l.category_id`,
  )

  await knex.raw(`create function listings_category_levels() returns trigger language plpgsql as $$
    declare p uuid[];
    begin
      select path into p from categories where id = new.category_id for share;
      ${levels.map((n) => `new.category_l${n} := p[${n}];`).join('\n      ')}
      return new;
    end $$`)
  await knex.raw(`create trigger listings_category_levels before insert or update of category_id on listings
    for each row execute function listings_category_levels()`)

  for (const n of levels) {
    const where = n === 1 ? ON_SALE : `${ON_SALE} and category_l${n} is not null`
    await knex.raw(
      `create index listings_active_l${n}_newest on listings (category_l${n}, published_at desc, id desc) where ${where}`,
    )
    await knex.raw(`create index listings_active_l${n}_price on listings (category_l${n}, price, id) where ${where}`)
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop trigger if exists listings_category_levels on listings')
  await knex.raw('drop function if exists listings_category_levels()')
  for (const n of levels) {
    await knex.raw(`drop index if exists listings_active_l${n}_newest`)
    await knex.raw(`drop index if exists listings_active_l${n}_price`)
    await knex.raw(`alter table listings drop column if exists category_l${n}`)
  }
  await knex.raw('drop trigger if exists categories_moved on categories')
  await knex.raw('drop function if exists categories_moved()')
  await knex.raw('drop trigger if exists categories_path on categories')
  await knex.raw('drop function if exists categories_path()')
  await knex.raw('alter table categories drop column if exists path')
}
