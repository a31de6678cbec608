import type { Knex } from 'knex'

export type ListingRow = {
  id: string
  seller_id: string
  title: string
  price: number
  quantity: number
  type: string
  status: string
  category_id: string
}

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
  overrides: Partial<Record<string, unknown>> = {},
): Promise<ListingRow> {
  const type = (overrides.type as string | undefined) ?? 'sale'
  const [row] = (await db('listings')
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
    .returning('*')) as ListingRow[]
  return row!
}
