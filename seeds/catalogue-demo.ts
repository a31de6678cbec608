import type { Knex } from 'knex'

type DemoListing = {
  seller: string
  title: string
  description: string
  category: string
  price: number
  condition: 'new' | 'like_new' | 'good' | 'fair'
  quantity?: number
  city: string
  state: string
  lat: number
  lng: number
  daysAgo: number
}

const LAGOS = { city: 'Lagos', state: 'Lagos' }
const IBADAN = { city: 'Ibadan', state: 'Oyo' }

/** Prices in naira; stored in kobo. A price of 0 is a giveaway. */
const LISTINGS: DemoListing[] = [
  {
    seller: 'ada@demo.oja',
    title: 'Three-seater grey fabric sofa',
    description: 'Bought in 2023 from a Lekki showroom. No stains, no tears; the cushions are firm. Pick-up in Yaba.',
    category: 'sofas-chairs',
    price: 185_000,
    condition: 'good',
    ...LAGOS,
    lat: 6.5095,
    lng: 3.3711,
    daysAgo: 1,
  },
  {
    seller: 'ada@demo.oja',
    title: 'Samsung 43" smart TV (UA43T5300)',
    description: 'Full HD, Netflix and YouTube work. Comes with the remote and wall bracket.',
    category: 'tvs-audio',
    price: 165_000,
    condition: 'like_new',
    ...LAGOS,
    lat: 6.4541,
    lng: 3.3947,
    daysAgo: 2,
  },
  {
    seller: 'ada@demo.oja',
    title: 'Binatone standing fan',
    description: '16-inch, three speeds, oscillates. Works perfectly; selling because I am relocating.',
    category: 'fans-air-conditioners',
    price: 18_500,
    condition: 'good',
    ...LAGOS,
    lat: 6.6018,
    lng: 3.3515,
    daysAgo: 3,
  },
  {
    seller: 'ada@demo.oja',
    title: 'Baby cot with mattress',
    description: 'Solid wood cot that converts to a toddler bed. Mattress included, washed cover.',
    category: 'nursery-furniture',
    price: 55_000,
    condition: 'good',
    ...LAGOS,
    lat: 6.4281,
    lng: 3.4219,
    daysAgo: 5,
  },
  {
    seller: 'ada@demo.oja',
    title: 'Free moving boxes',
    description: 'About twenty sturdy cardboard boxes from my move. Come and take them all.',
    category: 'other',
    price: 0,
    condition: 'fair',
    ...LAGOS,
    lat: 6.5095,
    lng: 3.3711,
    daysAgo: 0,
  },
  {
    seller: 'ada@demo.oja',
    title: 'Thermocool chest freezer 200L',
    description: 'Keeps ice solid even with NEPA wahala. Minor scratches on the lid.',
    category: 'fridges-freezers',
    price: 210_000,
    condition: 'fair',
    ...LAGOS,
    lat: 6.5568,
    lng: 3.3903,
    daysAgo: 8,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'HP EliteBook 840 G5 laptop',
    description: 'Core i5 8th gen, 16 GB RAM, 512 GB SSD. Battery holds about four hours.',
    category: 'laptops-computers',
    price: 240_000,
    condition: 'good',
    ...IBADAN,
    lat: 7.3775,
    lng: 3.947,
    daysAgo: 1,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'iPhone 12, 128 GB, blue',
    description: 'Factory unlocked, battery health 86%. Small scratch on the back glass.',
    category: 'mobile-phones',
    price: 320_000,
    condition: 'good',
    ...IBADAN,
    lat: 7.4443,
    lng: 3.9003,
    daysAgo: 4,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'Mahogany dining table with six chairs',
    description: 'Heavy solid mahogany, seats six. Buyer arranges transport from Bodija.',
    category: 'tables-desks',
    price: 280_000,
    condition: 'good',
    ...IBADAN,
    lat: 7.4166,
    lng: 3.9054,
    daysAgo: 6,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'Elepaq 3.5 kVA generator',
    description: 'Key start, serviced last month. Runs a fridge, fan and TV together.',
    category: 'generators-inverters',
    price: 150_000,
    condition: 'fair',
    ...IBADAN,
    lat: 7.3964,
    lng: 3.8867,
    daysAgo: 9,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'Aso-oke agbada set, size L',
    description: 'Worn once at a wedding. Cream and gold, with cap and trousers.',
    category: 'traditional-wear',
    price: 60_000,
    condition: 'like_new',
    ...IBADAN,
    lat: 7.3775,
    lng: 3.947,
    daysAgo: 11,
  },
  {
    seller: 'tunde@demo.oja',
    title: 'WAEC and JAMB textbooks bundle',
    description: 'Physics, Chemistry, Biology and Use of English. Some pencil notes inside.',
    category: 'textbooks',
    price: 12_000,
    condition: 'fair',
    quantity: 3,
    ...IBADAN,
    lat: 7.4443,
    lng: 3.9003,
    daysAgo: 2,
  },
]

const WANTS = [
  {
    author: 'tunde@demo.oja',
    title: 'Chest freezer',
    description: 'Looking for a working chest freezer, 150 L or bigger, around Ibadan or Lagos.',
    category: 'fridges-freezers',
    maxPrice: 200_000,
    ...IBADAN,
    lat: 7.3775,
    lng: 3.947,
  },
  {
    author: 'ada@demo.oja',
    title: 'Office chair',
    description: 'Ergonomic office chair with lumbar support for working from home.',
    category: 'office-furniture',
    maxPrice: 70_000,
    ...LAGOS,
    lat: 6.5095,
    lng: 3.3711,
  },
]

/** Demo catalogue: a dozen realistic listings from the demo users, two wants and a favourite. */
export async function seedCatalogueDemo(trx: Knex.Transaction, users: { id: string; email: string }[]): Promise<void> {
  const userId = (email: string) => users.find((u) => u.email === email)?.id
  const categories = new Map((await trx('categories').select('id', 'slug')).map((c) => [c.slug, c.id]))
  const rows = LISTINGS.flatMap((l) => {
    const seller = userId(l.seller)
    const category = categories.get(l.category)
    if (!seller || !category) return []
    const when = trx.raw(`now() - make_interval(days => ?)`, [l.daysAgo])
    return [
      {
        seller_id: seller,
        title: l.title,
        description: l.description,
        type: l.price === 0 ? ('giveaway' as const) : ('sale' as const),
        price: l.price * 100,
        condition: l.condition,
        category_id: category,
        quantity: l.quantity ?? 1,
        status: 'active' as const,
        city: l.city,
        state: l.state,
        lat: l.lat,
        lng: l.lng,
        published_at: when,
        created_at: when,
        updated_at: when,
      },
    ]
  })
  const listings = rows.length ? await trx('listings').insert(rows).returning(['id', 'title']) : []
  const wants = WANTS.flatMap((w) => {
    const author = userId(w.author)
    return author
      ? [
          {
            user_id: author,
            title: w.title,
            description: w.description,
            category_id: categories.get(w.category) ?? null,
            max_price: w.maxPrice * 100,
            city: w.city,
            state: w.state,
            lat: w.lat,
            lng: w.lng,
          },
        ]
      : []
  })
  if (wants.length) await trx('wants').insert(wants)
  const tunde = userId('tunde@demo.oja')
  const sofa = listings.find((l) => l.title.startsWith('Three-seater'))
  if (tunde && sofa) await trx('wishlists').insert({ user_id: tunde, listing_id: sofa.id })
}
