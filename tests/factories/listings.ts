import type { Knex } from 'knex'
import type { ListingRow } from '../../src/listings/index.js'

export type { ListingRow } from '../../src/listings/index.js'

/** The id of a leaf category from the reference tree (by slug). */
export async function categoryId(db: Knex, slug = 'sofas-chairs'): Promise<string> {
  const row = (await db('categories').where('slug', slug).first('id')) as { id: string } | undefined
  if (!row) throw new Error(`no category ${slug}`)
  return row.id
}

/**
 * Inserts an active listing straight into the database (for tests of features that only
 * need one to exist; the catalogue's own tests go through the API).
 */
export async function aListing(
  db: Knex,
  sellerId: string,
  overrides: Partial<Omit<ListingRow, 'search_vector'>> = {},
): Promise<ListingRow> {
  const type = overrides.type ?? 'sale'
  const [row] = await db('listings')
    .insert({
      seller_id: sellerId,
      title: 'Three-seater sofa',
      description: 'Grey fabric, barely used',
      type,
      price: type === 'giveaway' ? 0 : 250_000_00,
      condition: 'good',
      category_id: overrides.category_id ?? (await categoryId(db)),
      quantity: 1,
      status: 'active',
      city: 'Lagos',
      state: 'Lagos',
      published_at: db.fn.now(),
      ...overrides,
    })
    .returning('*')
  return row!
}
