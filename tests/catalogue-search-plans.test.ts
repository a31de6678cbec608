/**
 * Every filter and sort of GET /v1/listings is served by an index: the EXPLAIN plan of the
 * exact SQL the search service sends, over 40 000 generated listings, must read `listings`
 * through the expected index and never by a sequential scan. The plans are printed as TAP
 * comments (run with `npx tap tests/catalogue-search-plans.test.ts --reporter=tap`).
 */
import t from 'tap'
import { build } from './helpers/app.js'
import { categoryId } from './factories/listings.js'
import { seedBulkListings } from '../seeds/bulk-listings.js'
import {
  correctQuery,
  correctionSql,
  distanceCandidatesSql,
  pageSql,
  radiusIsDense,
  type SearchPlan,
} from '../src/listings/listings.search.js'
import { categoryWithDescendants } from '../src/categories/categories.service.js'

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; Plans?: PlanNode[] }

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)]
}

void t.test('each filter and sort uses an index', async (t) => {
  const app = await build(t)
  await seedBulkListings(app.db, 40_000, { rebuildIndexes: true })
  const db = app.db
  // Statistics from every row (300 × 200 > 40 000), not from a random sample: the same
  // plans on every run, so a plan that flips is a change in the code, not in the sample.
  await db.transaction(async (trx) => {
    await trx.raw('set local default_statistics_target = 200')
    await trx.raw('analyze listings')
  })
  const leaf = await categoryId(db, 'sofas-chairs')
  const furniture = await categoryWithDescendants({ db }, await categoryId(db, 'furniture'))
  const seller = ((await db('listings').first('seller_id')) as { seller_id: string }).seller_id
  const recent = (
    await db.raw(
      "select to_json(published_at) #>> '{}' as at, id from listings where status = 'active' order by published_at desc, id desc offset 500 limit 1",
    )
  ).rows[0] as { at: string; id: string }
  const lagos = { lat: 6.5244, lng: 3.3792 }
  const base: SearchPlan = { sort: 'newest', limit: 20, mode: 'exact' }

  const cases: [string, Partial<SearchPlan>, RegExp][] = [
    ['newest', {}, /listings_active_newest/],
    ['newest, page 26 (keyset)', { after: [recent.at, recent.id] }, /listings_active_newest/],
    ['price_asc', { sort: 'price_asc' }, /listings_active_price/],
    ['price_desc', { sort: 'price_desc' }, /listings_active_price/],
    [
      'price range + price_asc',
      { sort: 'price_asc', minPrice: 10_000_00, maxPrice: 20_000_00 },
      /listings_active_price/,
    ],
    ['price range + newest', { minPrice: 10_000_00, maxPrice: 12_000_00 }, /listings_active_(price|newest)/],
    ['leaf category + newest', { categoryIds: [leaf] }, /listings_active_category_newest/],
    ['leaf category + price_desc', { categoryIds: [leaf], sort: 'price_desc' }, /listings_active_category_price/],
    ['category subtree + newest', { categoryIds: furniture }, /listings_active_(newest|category_newest)/],
    ['condition + newest', { condition: ['new'] }, /listings_active_(condition|newest)/],
    ['giveaways + newest', { type: 'giveaway' }, /listings_active_giveaway/],
    ['seller + newest', { sellerId: seller }, /listings_active_seller/],
    ['text, relevance', { q: 'sofa', sort: 'relevance' }, /listings_active_search/],
    // A common term: at 1M listings the window walks the newest index that carries
    // search_vector, index-only (catalogue-plans.md); over 40 000 the text bitmap is as cheap.
    ['common text, relevance', { q: 'chair', sort: 'relevance' }, /listings_active_(newest_text|search)/],
    // The condition is checked on the heap rows of the text bitmap (a (search_vector,
    // condition) btree_gin index was measured no faster: its scan costs what the heap saves).
    [
      'text + condition, relevance',
      { q: 'sofa', condition: ['good', 'like_new'], sort: 'relevance' },
      /listings_active_search/,
    ],
    [
      'text + category, newest',
      { q: 'sofa', categoryIds: furniture },
      /listings_active_(search|newest|category_newest)/,
    ],
    // The typo page: the exact statement with the query or its correction, through the text index.
    [
      'text, typo fallback (corrected)',
      { q: 'samsumg', corrected: 'samsung', sort: 'relevance', mode: 'fuzzy' },
      /listings_active_search/,
    ],
    ['radius 10 km + newest, sparse', { origin: lagos, radiusKm: 10 }, /listings_active_geo/],
    [
      'radius 10 km + newest, dense (the sort index leads)',
      { origin: lagos, radiusKm: 10, geoIndex: false },
      /listings_active_newest/,
    ],
    ['distance sort', { origin: lagos, sort: 'distance' }, /listings_active_geo/],
    [
      'distance sort, later page',
      { origin: lagos, sort: 'distance', after: [25_000, '00000000-0000-4000-8000-000000000000'] },
      /listings_active_geo/,
    ],
    [
      'radius + distance + filters',
      { origin: lagos, radiusKm: 25, sort: 'distance', condition: ['good'], maxPrice: 100_000_00 },
      /listings_active_geo/,
    ],
  ]
  for (const [name, over, expected] of cases) {
    const plan: SearchPlan = { ...base, ...over }
    // Distance pages first pick ids by a nearest-neighbour scan, then build the cards.
    const { sql, bindings } =
      plan.sort === 'distance' ? distanceCandidatesSql(plan, plan.limit + 17) : pageSql(db, plan)
    const explained = (await db.raw(`explain (format json) ${sql}`, bindings)).rows[0]['QUERY PLAN'][0].Plan as PlanNode
    const all = nodes(explained)
    const onListings = all.filter((n) => n['Relation Name'] === 'listings' || n['Index Name']?.startsWith('listings_'))
    t.notOk(
      onListings.some((n) => n['Node Type'] === 'Seq Scan'),
      `${name}: no sequential scan of listings`,
    )
    const used = onListings
      .map((n) => n['Index Name'])
      .filter(Boolean)
      .join(', ')
    t.match(used, expected, `${name}: uses ${used}`)
    const text = (await db.raw(`explain ${sql}`, bindings)).rows
      .map((r: Record<string, string>) => r['QUERY PLAN'])
      .join('\n')
    t.comment(`${name}\n${text}`)
  }

  // Both radius strategies return the same listings.
  for (const sort of ['newest', 'price_asc'] as const) {
    const run = async (geoIndex: boolean) =>
      (
        (
          await db.raw(
            pageSql(db, { ...base, sort, origin: lagos, radiusKm: 10, geoIndex, limit: 50 }).sql,
            pageSql(db, { ...base, sort, origin: lagos, radiusKm: 10, geoIndex, limit: 50 }).bindings,
          )
        ).rows as { id: string }[]
      ).map((r) => r.id)
    const viaGeo = await run(true)
    t.ok(viaGeo.length > 20, `${sort}: the radius holds listings`)
    t.same(await run(false), viaGeo, `${sort}: dense and sparse strategies agree`)
  }
  t.equal(await radiusIsDense(db, lagos, 2, 20), false, 'a 2 km circle among 40 000 listings is sparse')
  t.equal(await radiusIsDense(db, lagos, 400, 20), true, 'a 400 km circle is dense')

  // Query correction: a nearest-neighbour scan of the title words' trigram index per word.
  await db.raw('analyze listing_words')
  const correction = correctionSql(['samsumg', 'sofaa'])
  const corrected = nodes(
    (await db.raw(`explain (format json) ${correction.sql}`, correction.bindings)).rows[0]['QUERY PLAN'][0]
      .Plan as PlanNode,
  )
  t.ok(
    corrected.some((n) => n['Index Name'] === 'listing_words_trgm'),
    'correction: a KNN scan of listing_words_trgm',
  )
  t.comment(
    `correction\n${(await db.raw(`explain ${correction.sql}`, correction.bindings)).rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n')}`,
  )
  t.equal(await correctQuery(db, 'samsumg sofaa 4K'), 'samsung sofa 4K')

  const anId = ((await db('listings').first('id')) as { id: string }).id
  const detail = (
    await db.raw('explain (format json) select * from listings l join users u on u.id = l.seller_id where l.id = ?', [
      anId,
    ])
  ).rows[0]['QUERY PLAN'][0].Plan as PlanNode
  t.ok(
    nodes(detail).some((n) => n['Index Name'] === 'listings_pkey'),
    'listing detail by primary key',
  )
})
