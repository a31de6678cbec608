import type { Knex } from 'knex'

type Node = [name: string, slug: string, children?: Node[]]

/** The reference category tree for a Nigerian second-hand market. */
export const CATEGORY_TREE: Node[] = [
  [
    'Furniture',
    'furniture',
    [
      ['Sofas & Chairs', 'sofas-chairs'],
      ['Beds & Mattresses', 'beds-mattresses'],
      ['Tables & Desks', 'tables-desks'],
      ['Wardrobes & Storage', 'wardrobes-storage'],
      ['Office Furniture', 'office-furniture'],
    ],
  ],
  [
    'Electronics',
    'electronics',
    [
      ['TVs & Audio', 'tvs-audio'],
      ['Laptops & Computers', 'laptops-computers'],
      ['Cameras', 'cameras'],
      ['Gaming', 'gaming'],
      ['Generators & Inverters', 'generators-inverters'],
    ],
  ],
  [
    'Phones & Tablets',
    'phones-tablets',
    [
      ['Mobile Phones', 'mobile-phones'],
      ['Tablets', 'tablets'],
      ['Phone Accessories', 'phone-accessories'],
    ],
  ],
  [
    'Fashion',
    'fashion',
    [
      ["Women's Clothing", 'womens-clothing'],
      ["Men's Clothing", 'mens-clothing'],
      ['Shoes', 'shoes'],
      ['Bags', 'bags'],
      ['Jewellery & Watches', 'jewellery-watches'],
      ['Traditional Wear', 'traditional-wear'],
    ],
  ],
  [
    'Baby & Kids',
    'baby-kids',
    [
      ['Prams & Car Seats', 'prams-car-seats'],
      ["Kids' Clothing", 'kids-clothing'],
      ['Toys', 'toys'],
      ['Nursery Furniture', 'nursery-furniture'],
    ],
  ],
  [
    'Books & Media',
    'books-media',
    [
      ['Textbooks', 'textbooks'],
      ['Novels', 'novels'],
      ['Music & Films', 'music-films'],
    ],
  ],
  [
    'Home & Kitchen',
    'home-kitchen',
    [
      ['Kitchen Appliances', 'kitchen-appliances'],
      ['Cookware', 'cookware'],
      ['Home Decor', 'home-decor'],
      ['Fans & Air Conditioners', 'fans-air-conditioners'],
      ['Fridges & Freezers', 'fridges-freezers'],
    ],
  ],
  [
    'Sports & Outdoors',
    'sports-outdoors',
    [
      ['Fitness Equipment', 'fitness-equipment'],
      ['Bicycles', 'bicycles'],
      ['Football', 'football'],
    ],
  ],
  [
    'Health & Beauty',
    'health-beauty',
    [
      ['Hair & Wigs', 'hair-wigs'],
      ['Skincare', 'skincare'],
    ],
  ],
  [
    'Vehicles & Parts',
    'vehicles-parts',
    [
      ['Car Parts', 'car-parts'],
      ['Motorcycles', 'motorcycles'],
    ],
  ],
  ['Other', 'other'],
]

/** Inserts the tree; idempotent (existing slugs are kept as they are). */
export async function seedCategories(knex: Knex): Promise<void> {
  const insert = async (nodes: Node[], parentId: string | null) => {
    for (const [position, [name, slug, children]] of nodes.entries()) {
      await knex('categories').insert({ name, slug, parent_id: parentId, position }).onConflict('slug').ignore()
      if (children) {
        const row = await knex('categories').where('slug', slug).first('id')
        if (!row) throw new Error(`category ${slug} was not stored`)
        await insert(children, row.id)
      }
    }
  }
  const existing = await knex('categories').count({ n: '*' }).first()
  if (Number(existing?.n ?? 0) > 0) return
  await insert(CATEGORY_TREE, null)
}
