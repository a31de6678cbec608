import { hash } from '@node-rs/argon2'
import type { Knex } from 'knex'

export const BULK_PASSWORD = 'bulk-password'

/** Items per leaf category (by slug), with a plausible price range in naira. */
const ITEMS: Record<string, [nouns: string[], minNaira: number, maxNaira: number]> = {
  'sofas-chairs': [
    ['sofa', 'three-seater sofa', 'armchair', 'recliner', 'L-shaped sofa', 'rocking chair', 'ottoman'],
    15_000,
    450_000,
  ],
  'beds-mattresses': [
    ['double bed', 'queen bed frame', 'Vitafoam mattress', 'bunk bed', 'orthopaedic mattress'],
    20_000,
    380_000,
  ],
  'tables-desks': [['dining table', 'coffee table', 'study desk', 'glass centre table', 'side table'], 10_000, 300_000],
  'wardrobes-storage': [['wardrobe', 'chest of drawers', 'bookshelf', 'shoe rack', 'TV stand'], 12_000, 250_000],
  'office-furniture': [['office chair', 'executive desk', 'filing cabinet', 'conference table'], 15_000, 350_000],
  'tvs-audio': [
    ['LG smart TV', 'Samsung TV', 'soundbar', 'home theatre', 'Bluetooth speaker', 'Hisense TV'],
    20_000,
    700_000,
  ],
  'laptops-computers': [
    ['HP laptop', 'Dell laptop', 'MacBook Air', 'Lenovo ThinkPad', 'desktop computer', 'monitor'],
    60_000,
    1_500_000,
  ],
  cameras: [['Canon DSLR', 'Nikon camera', 'GoPro', 'camera lens', 'tripod'], 15_000, 900_000],
  gaming: [
    ['PS4 console', 'PS5 console', 'Xbox One', 'gaming chair', 'PS5 controller', 'Nintendo Switch'],
    15_000,
    800_000,
  ],
  'generators-inverters': [
    ['generator', 'inverter', 'solar panel', 'inverter battery', 'stabilizer'],
    25_000,
    1_200_000,
  ],
  'mobile-phones': [
    ['iPhone 11', 'iPhone 13', 'Samsung Galaxy', 'Tecno Camon', 'Infinix Hot', 'Redmi Note'],
    40_000,
    1_300_000,
  ],
  tablets: [['iPad', 'Samsung tablet', 'Kindle', 'Lenovo tablet'], 30_000, 700_000],
  'phone-accessories': [['power bank', 'phone charger', 'earbuds', 'phone case', 'smart watch'], 2_000, 80_000],
  'womens-clothing': [['ankara dress', 'handbag', 'jumpsuit', 'blouse', 'gown'], 3_000, 60_000],
  'mens-clothing': [['senator suit', 'shirt', 'jeans', 'blazer', 'kaftan'], 3_000, 70_000],
  shoes: [['sneakers', 'loafers', 'heels', 'sandals', 'football boots'], 4_000, 90_000],
  bags: [['backpack', 'travel bag', 'leather bag', 'laptop bag'], 4_000, 80_000],
  'jewellery-watches': [['wrist watch', 'gold necklace', 'bracelet', 'earrings'], 5_000, 400_000],
  'traditional-wear': [['agbada', 'aso-oke', 'gele', 'buba and sokoto'], 8_000, 150_000],
  'prams-car-seats': [['baby pram', 'car seat', 'stroller', 'baby carrier'], 10_000, 180_000],
  'kids-clothing': [['school uniform', 'kids shoes', 'baby clothes bundle'], 2_000, 30_000],
  toys: [['Lego set', 'toy car', 'doll house', 'ride-on car', 'puzzle'], 2_000, 120_000],
  'nursery-furniture': [['baby cot', 'changing table', 'high chair', 'playpen'], 10_000, 150_000],
  textbooks: [['WAEC textbook', 'JAMB past questions', 'medical textbook', 'law textbook'], 1_500, 40_000],
  novels: [['Chimamanda novel', 'Achebe novel', 'thriller novel', 'book bundle'], 1_000, 15_000],
  'music-films': [['guitar', 'keyboard', 'vinyl records', 'DVD collection'], 3_000, 250_000],
  'kitchen-appliances': [
    ['blender', 'microwave', 'gas cooker', 'air fryer', 'toaster', 'water dispenser'],
    8_000,
    300_000,
  ],
  cookware: [['pot set', 'non-stick pan', 'pressure pot', 'cutlery set'], 3_000, 60_000],
  'home-decor': [['wall mirror', 'rug', 'curtains', 'wall clock', 'standing lamp'], 3_000, 90_000],
  'fans-air-conditioners': [
    ['standing fan', 'rechargeable fan', 'split AC', 'window AC', 'ceiling fan'],
    8_000,
    450_000,
  ],
  'fridges-freezers': [['chest freezer', 'double-door fridge', 'bar fridge', 'deep freezer'], 40_000, 650_000],
  'fitness-equipment': [['treadmill', 'dumbbells', 'exercise bike', 'weight bench'], 5_000, 600_000],
  bicycles: [['mountain bike', 'road bike', 'kids bicycle', 'BMX'], 20_000, 350_000],
  football: [['football', 'jersey', 'goalkeeper gloves', 'shin guards'], 2_000, 40_000],
  'hair-wigs': [['human hair wig', 'bone straight wig', 'hair dryer', 'braiding extensions'], 5_000, 250_000],
  skincare: [['skincare set', 'body lotion', 'perfume', 'face serum'], 2_000, 60_000],
  'car-parts': [['car battery', 'alloy rims', 'car stereo', 'tyres', 'side mirror'], 8_000, 400_000],
  motorcycles: [['Bajaj motorcycle', 'helmet', 'motorcycle tyre', 'scooter'], 15_000, 1_100_000],
  other: [['moving boxes', 'bundle of items', 'garden tools', 'pet cage'], 1_000, 50_000],
}

const ADJECTIVES = [
  'Clean',
  'Neat',
  'Used',
  'Almost new',
  'Fairly used',
  'UK-used',
  'Tokunbo',
  'Sturdy',
  'Classic',
  'Portable',
  'Big',
  'Compact',
  'Quality',
  'Original',
  'Affordable',
  'Strong',
  'Lovely',
  'Modern',
  'Vintage',
  'Brand new',
]
const COLOURS = ['black', 'white', 'grey', 'blue', 'red', 'brown', 'green', 'silver', 'gold', 'cream']
const OPENERS = [
  'Selling my',
  'Neatly used',
  'Relocating, so selling this',
  'Barely used',
  'Well kept',
  'Upgraded, selling my old',
  'Clearing the house:',
]
const DETAILS = [
  'Works perfectly with no faults.',
  'Minor scratches, nothing serious.',
  'Comes with everything in the original box.',
  'Serviced recently.',
  'No repairs ever done.',
  'Pick-up only; delivery can be arranged at cost.',
  'Price slightly negotiable.',
  'Test before you pay.',
]
const CLOSERS = [
  'Serious buyers only.',
  'First come, first served.',
  'Call or chat to view.',
  'Available this weekend.',
  'Location is easy to reach.',
]

const CITIES: [city: string, state: string, lat: number, lng: number][] = [
  ['Lagos', 'Lagos', 6.5244, 3.3792],
  ['Ikeja', 'Lagos', 6.6018, 3.3515],
  ['Lekki', 'Lagos', 6.4698, 3.5852],
  ['Abuja', 'FCT', 9.0765, 7.3986],
  ['Ibadan', 'Oyo', 7.3775, 3.947],
  ['Port Harcourt', 'Rivers', 4.8156, 7.0498],
  ['Kano', 'Kano', 12.0022, 8.592],
  ['Enugu', 'Enugu', 6.4584, 7.5464],
  ['Benin City', 'Edo', 6.335, 5.6037],
  ['Abeokuta', 'Ogun', 7.1475, 3.3619],
  ['Kaduna', 'Kaduna', 10.5105, 7.4165],
  ['Owerri', 'Imo', 5.4836, 7.0333],
  ['Uyo', 'Akwa Ibom', 5.0377, 7.9128],
  ['Jos', 'Plateau', 9.8965, 8.8583],
  ['Ilorin', 'Kwara', 8.4966, 4.5421],
  ['Warri', 'Delta', 5.5544, 5.7932],
]
const FIRST = [
  'Ada',
  'Tunde',
  'Chioma',
  'Emeka',
  'Bola',
  'Ngozi',
  'Ibrahim',
  'Aisha',
  'Segun',
  'Funmi',
  'Obinna',
  'Zainab',
  'Kelechi',
  'Yemi',
  'Halima',
  'Femi',
]
const LAST = [
  'Okafor',
  'Bakare',
  'Adeyemi',
  'Eze',
  'Bello',
  'Okonkwo',
  'Abubakar',
  'Ogunleye',
  'Nwosu',
  'Balogun',
  'Danjuma',
  'Olawale',
]

export type BulkOptions = {
  /** Sellers to create (default: one per 50 listings, between 10 and 20 000). */
  sellers?: number
  /** Rows per INSERT ... SELECT statement. */
  batch?: number
  log?: (msg: string) => void
  /**
   * Drop the listings' secondary indexes and rebuild them after the insert (all in one
   * transaction, so a failure leaves them as they were). Default: for 50 000 rows or more.
   */
  rebuildIndexes?: boolean
}

/**
 * Inserts `count` realistic listings (and their sellers) with multi-row
 * `INSERT ... SELECT ... FROM generate_series`: every value is derived in SQL from the row
 * number through hashes, so the database does all the work and a run is reproducible.
 * About 92% are active, 5% sold, 3% drafts; 3% are giveaways; 85% carry coordinates near
 * one of 16 Nigerian cities; publication times follow insertion order over 180 days.
 */
export async function seedBulkListings(
  knex: Knex,
  count: number,
  opts: BulkOptions = {},
): Promise<{ listings: number; sellers: number }> {
  const log = opts.log ?? (() => {})
  const batch = opts.batch ?? 100_000
  const sellerCount = opts.sellers ?? Math.max(10, Math.min(20_000, Math.ceil(count / 50)))
  const rebuild = opts.rebuildIndexes ?? count >= 50_000

  const leaves: { id: string; slug: string }[] = await knex('categories as c')
    .whereNotExists(knex('categories as k').whereRaw('k.parent_id = c.id'))
    .select('c.id', 'c.slug')
  const cats = leaves.map((c, idx) => {
    const [nouns, min, max] = ITEMS[c.slug] ?? ITEMS.other!
    return { idx, category_id: c.id, nouns, min_price: min, max_price: max }
  })
  if (cats.length === 0) throw new Error('no categories: run the category seed first')
  const cities = CITIES.map(([city, state, lat, lng], idx) => ({ idx, city, state, lat, lng }))

  const passwordHash = await hash(BULK_PASSWORD)
  const tag = Date.now().toString(36)
  await knex.raw(
    `insert into users (email, password_hash, name, email_verified_at, location, created_at)
     select format('bulk-%s-%s@bulk.oja', :tag::text, g), :passwordHash, (:first::text[])[1 + abs(hashint8extended(g, 1)) % :firstCount] || ' ' || (:last::text[])[1 + abs(hashint8extended(g, 2)) % :lastCount],
            now(), (:cities::text[])[1 + abs(hashint8extended(g, 3)) % :cityCount], now() - interval '200 days'
     from generate_series(1::bigint, :sellerCount::bigint) g`,
    {
      tag,
      passwordHash,
      first: FIRST,
      firstCount: FIRST.length,
      last: LAST,
      lastCount: LAST.length,
      cities: CITIES.map((c) => c[0]),
      cityCount: CITIES.length,
      sellerCount,
    },
  )
  log(`${sellerCount} sellers created (password ${BULK_PASSWORD})`)

  const insertBatch = (trx: Knex | Knex.Transaction, from: number, to: number) =>
    trx.raw(
      `with cats as (
         select c.*, k.path as category_path
         from jsonb_to_recordset(:cats::jsonb) as c(idx int, category_id uuid, nouns text[], min_price bigint, max_price bigint)
         join categories k on k.id = c.category_id
       ), cities as (
         select * from jsonb_to_recordset(:cities::jsonb) as x(idx int, city text, state text, lat float8, lng float8)
       ), sellers as (
         select (row_number() over (order by id) - 1)::int as idx, id from users where email like 'bulk-' || :tag || '-%'
       ), rows as (
         select g,
                abs(hashint8extended(g, 10)) % 100 as p_status,
                abs(hashint8extended(g, 11)) % 100 as p_type,
                abs(hashint8extended(g, 12)) % 100 as p_geo,
                abs(hashint8extended(g, 13)) % 100 as p_qty,
                c.category_id, c.category_path, c.nouns, c.min_price, c.max_price,
                ci.city, ci.state, ci.lat, ci.lng, s.id as seller_id
         from generate_series(:from::bigint, :to::bigint) g
         join cats c on c.idx = abs(hashint8extended(g, 1)) % :catCount
         join cities ci on ci.idx = abs(hashint8extended(g, 2)) % :cityCount
         join sellers s on s.idx = abs(hashint8extended(g, 3)) % :sellerCount
       ), shaped as (
         select r.*,
                r.nouns[1 + abs(hashint8extended(g, 4)) % array_length(r.nouns, 1)] as noun,
                case when r.p_type < 3 then 'giveaway' else 'sale' end as type,
                case when r.p_status < 3 then 'draft' when r.p_status < 8 then 'sold' else 'active' end as status,
                case when r.p_qty < 90 then 1 else 2 + abs(hashint8extended(g, 5)) % 4 end as quantity,
                -- Listings arrive in time order (as in production, so the table's physical order
                -- follows publication), spread over 180 days, with up to 10 minutes of jitter.
                now() - make_interval(secs => ((:count - g)::float8 / :count * 180 * 86400 + (abs(hashint8extended(g, 6)) % 600000) / 1000.0)) as at
         from rows r
       )
       insert into listings (seller_id, title, description, type, price, currency, condition, category_id, quantity, sold_quantity,
                             status, city, state, lat, lng, published_at, created_at, updated_at,
                             category_l1, category_l2, category_l3, category_l4)
       select seller_id,
              (:adjectives::text[])[1 + abs(hashint8extended(g, 7)) % :adjectiveCount] || ' ' || noun ||
                case when abs(hashint8extended(g, 8)) % 3 = 0 then ', ' || (:colours::text[])[1 + abs(hashint8extended(g, 9)) % :colourCount] else '' end,
              (:openers::text[])[1 + abs(hashint8extended(g, 14)) % :openerCount] || ' ' || lower(noun) || '. ' ||
                (:details::text[])[1 + abs(hashint8extended(g, 15)) % :detailCount] || ' ' || (:details::text[])[1 + abs(hashint8extended(g, 16)) % :detailCount] || ' ' ||
                (:closers::text[])[1 + abs(hashint8extended(g, 17)) % :closerCount],
              type,
              case when type = 'giveaway' then 0
                   else (round((min_price + (max_price - min_price) * power((abs(hashint8extended(g, 18)) % 10000) / 10000.0, 2)) / 500) * 500 + 500)::bigint * 100 end,
              'NGN',
              (array['new','like_new','good','good','fair'])[1 + abs(hashint8extended(g, 19)) % 5],
              category_id, quantity,
              case when status = 'sold' then quantity else 0 end,
              status, city, state,
              case when p_geo < 85 then lat + ((abs(hashint8extended(g, 20)) % 30000) - 15000) / 100000.0 end,
              case when p_geo < 85 then lng + ((abs(hashint8extended(g, 21)) % 30000) - 15000) / 100000.0 end,
              case when status = 'draft' then null else at end, at, at,
              category_path[1], category_path[2], category_path[3], category_path[4]
       from shaped`,
      {
        cats: JSON.stringify(cats),
        cities: JSON.stringify(cities),
        tag,
        from,
        to,
        catCount: cats.length,
        cityCount: cities.length,
        sellerCount,
        count,
        adjectives: ADJECTIVES,
        adjectiveCount: ADJECTIVES.length,
        colours: COLOURS,
        colourCount: COLOURS.length,
        openers: OPENERS,
        openerCount: OPENERS.length,
        details: DETAILS,
        detailCount: DETAILS.length,
        closers: CLOSERS,
        closerCount: CLOSERS.length,
      },
    )

  // The category levels (migration 20261211000100) are set above from the categories' paths,
  // for the whole batch at once; the per-row trigger that would look each one up again is off
  // for this transaction only. So is the title-words trigger: one recount after the load
  // (listing_words_recount, migration 20261212000100) adds the words and their counts.
  const fill = async (trx: Knex.Transaction) => {
    await trx.raw('alter table listings disable trigger listings_category_levels')
    await trx.raw('alter table listings disable trigger listing_words_inserted')
    for (let from = 1; from <= count; from += batch) {
      const to = Math.min(count, from + batch - 1)
      await insertBatch(trx, from, to)
      log(`${to} / ${count} listings`)
    }
    await trx.raw('alter table listings enable trigger listings_category_levels')
    await trx.raw('alter table listings enable trigger listing_words_inserted')
    await trx.raw('select listing_words_recount()')
  }

  if (rebuild) {
    await knex.transaction(async (trx) => {
      // Secondary indexes only: those backing constraints (the primary key) stay.
      const { rows: indexes } = await trx.raw<{ rows: { name: string; def: string }[] }>(
        `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
         from pg_index i where i.indrelid = 'listings'::regclass
           and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
      )
      for (const ix of indexes) await trx.raw(`drop index ${ix.name}`)
      await fill(trx)
      await trx.raw("set local maintenance_work_mem = '512MB'")
      for (const ix of indexes) {
        const started = Date.now()
        await trx.raw(ix.def)
        log(`index ${ix.name} rebuilt in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      }
    })
  } else {
    await knex.transaction(fill)
  }
  await knex.raw('analyze listings')
  await knex.raw('analyze users')
  await knex.raw('analyze listing_words')
  return { listings: count, sellers: sellerCount }
}
