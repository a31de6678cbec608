import t from 'tap'
import type { OjaApp } from '../src/app.js'
import { build, call, type Json } from './helpers/app.js'
import { aUser, type SignedInUser } from './factories/users.js'
import { categoryId } from './factories/listings.js'
import { createListing } from './factories/catalogue.js'
import { createSearchService } from '../src/listings/listings.search.js'

const PLACES = {
  lagos: { city: 'Lagos', state: 'Lagos', lat: 6.5244, lng: 3.3792 },
  ikeja: { city: 'Ikeja', state: 'Lagos', lat: 6.6018, lng: 3.3515 }, // ~9 km from Lagos
  lekki: { city: 'Lekki', state: 'Lagos', lat: 6.4698, lng: 3.5852 }, // ~24 km
  ibadan: { city: 'Ibadan', state: 'Oyo', lat: 7.3775, lng: 3.947 }, // ~113 km
}

const ids = (res: { json: Json }) => (res.json.items as { id: string }[]).map((i) => i.id)

async function pageAll(app: OjaApp, query: string, limit: number, token?: string): Promise<string[]> {
  const out: string[] = []
  let cursor: string | undefined
  for (let guard = 0; guard < 1000; guard++) {
    const res = await call(app, 'GET', `/v1/listings?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, {
      token,
    })
    if (res.statusCode !== 200) throw new Error(`${res.statusCode} ${res.body}`)
    out.push(...ids(res))
    cursor = res.json.nextCursor ?? undefined
    if (!cursor) return out
  }
  throw new Error('paging never ended')
}

void t.test('full text: stemming, title over description, web-search syntax', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const inTitle = await createListing(app, s, { title: 'Grey fabric sofa', description: 'Comfortable, seats three' })
  const inDescription = await createListing(app, s, {
    title: 'Living room set',
    description: 'A grey sofa and two chairs, good condition',
  })
  const leather = await createListing(app, s, { title: 'Leather sofa, brown', description: 'Real leather' })
  await createListing(app, s, {
    title: 'Standing fan',
    description: 'Three speeds',
    categoryId: await categoryId(app.db, 'fans-air-conditioners'),
  })

  const sofas = await call(app, 'GET', '/v1/listings?q=sofas')
  t.equal(sofas.statusCode, 200)
  t.equal(sofas.json.searchMode, 'exact')
  t.same(
    new Set(ids(sofas)),
    new Set([inTitle.id, inDescription.id, leather.id]),
    '"sofas" finds "sofa" (English stemming)',
  )
  const grey = await call(app, 'GET', '/v1/listings?q=grey%20sofa')
  t.same(ids(grey), [inTitle.id, inDescription.id], 'a title match ranks above a description match')
  t.equal(grey.json.searchMode, 'exact', 'two exact matches are little, but no word is misspelt: nothing to correct')
  const notLeather = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent('sofa -leather')}&sort=newest`)
  t.same(ids(notLeather), [inDescription.id, inTitle.id], 'web-search syntax: -word excludes, sort newest')
  t.equal(notLeather.json.searchMode, 'exact', 'a query with operators is never widened')
  const phrase = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent('"grey sofa"')}`)
  t.same(ids(phrase), [inDescription.id], 'quoted phrase')
  const either = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent('leather or fan')}`)
  t.equal(ids(either).length, 2)
})

void t.test(
  'typos: a misspelt word is corrected to the nearest title word when the exact search finds little',
  async (t) => {
    const app = await build(t)
    const s = await aUser(app)
    const phone = await createListing(app, s, {
      title: 'Samsung Galaxy S21 phone',
      categoryId: await categoryId(app.db, 'mobile-phones'),
    })
    const fridge = await createListing(app, s, {
      title: 'Samsung double-door fridge',
      categoryId: await categoryId(app.db, 'fridges-freezers'),
    })
    await createListing(app, s, { title: 'Binatone standing fan' })

    const typo = await call(app, 'GET', '/v1/listings?q=samsumg')
    t.equal(typo.statusCode, 200)
    t.equal(typo.json.searchMode, 'fuzzy')
    t.equal(typo.json.correctedQuery, 'samsung')
    t.same(new Set(ids(typo)), new Set([phone.id, fridge.id]))
    const typo2 = await call(app, 'GET', '/v1/listings?q=frdge')
    t.same(ids(typo2), [fridge.id], 'frdge → fridge')
    t.equal(typo2.json.correctedQuery, 'fridge')
    const twoWords = await call(app, 'GET', '/v1/listings?q=samsumg%20frdge')
    t.equal(twoWords.json.correctedQuery, 'samsung fridge', 'each misspelt word is corrected')
    t.same(ids(twoWords), [fridge.id])
    const exact = await call(app, 'GET', '/v1/listings?q=samsung')
    t.equal(exact.json.searchMode, 'exact')
    t.notOk('correctedQuery' in exact.json)
    const nothing = await call(app, 'GET', '/v1/listings?q=zzzzqqq')
    t.same(nothing.json.items, [], 'no title word is near: the exact (empty) result')
    t.equal(nothing.json.searchMode, 'exact')
    t.notOk('correctedQuery' in nothing.json)
    // Operators say exactly what is wanted: never corrected.
    for (const q of ['"samsumg"', 'samsumg or frdge', 'fan -samsumg']) {
      const res = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent(q)}`)
      t.equal(res.json.searchMode, 'exact', `${q}: not corrected`)
      t.notOk('correctedQuery' in res.json)
    }
    // A listing that contains the misspelling itself (not in its title) still matches.
    const misspelt = await createListing(app, s, { title: 'Phone charger', description: 'Fits samsumg phones' })
    const both = await call(app, 'GET', '/v1/listings?q=samsumg')
    t.equal(both.json.searchMode, 'fuzzy')
    t.same(new Set(ids(both)), new Set([phone.id, fridge.id, misspelt.id]))
    const plain = await call(app, 'GET', '/v1/listings')
    t.notOk('searchMode' in plain.json, 'no searchMode without q')
  },
)

void t.test('the title words follow inserts and title edits', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const words = async () =>
    ((await app.db('listing_words').pluck('word')) as string[]).filter((w) =>
      ['oyster', 'mower', 'lawn', 'petrol', 'heater'].includes(w),
    )
  const mower = await createListing(app, s, { title: 'Petrol Lawn Mower' })
  t.same((await words()).sort(), ['lawn', 'mower', 'petrol'], 'an insert adds its lowercased words')
  const res = await call(app, 'PATCH', `/v1/listings/${mower.id}`, {
    token: s.accessToken,
    body: { title: 'Oyster heater' },
  })
  t.equal(res.statusCode, 200)
  t.same((await words()).sort(), ['heater', 'lawn', 'mower', 'oyster', 'petrol'], 'a title edit adds the new words')
  const fixed = await call(app, 'GET', '/v1/listings?q=oystr%20heatr')
  t.equal(fixed.json.correctedQuery, 'oyster heater', 'a word added by an edit corrects queries')
  t.same(ids(fixed), [mower.id])
  // The same words again: nothing to add, nothing fails.
  await createListing(app, s, { title: 'oyster HEATER' })
  t.equal((await app.db('listing_words').where('word', 'heater').pluck('word')).length, 1)
})

void t.test('the weekly job recounts the words once per interval, on one node', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const ndoc = async (word: string) => Number((await app.db('listing_words').where({ word }).first('ndoc'))?.ndoc ?? 0)
  for (let i = 0; i < 3; i++) await createListing(app, s, { title: `Walnut bookcase ${i}` })
  t.equal(await ndoc('walnut'), 1, 'a word added by the trigger counts 1 until a recount')
  const recount = async () => (await app.sweeper.runOnce())['listing-words-recount']
  t.equal(await recount(), 0, 'not due: the migration counted the words just now')
  t.equal(await ndoc('walnut'), 1)
  await app.db('listing_words_counted').update({ counted_at: app.db.raw("now() - interval '169 hours'") })
  // Two nodes at once: one recounts; the other misses the lock (no entry) or finds it claimed (0).
  const runs = await Promise.all([recount(), recount()])
  t.equal(runs.filter((n) => n === 1).length, 1, `one of two runs at once recounts (${JSON.stringify(runs)})`)
  t.equal(await ndoc('walnut'), 3, 'the counts are the listings using each word')
  t.equal(await ndoc('bookcase'), 3)
  t.equal(await recount(), 0, 'and it is not due again for a week')
})

void t.test('a fuzzy search pages with its correction', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const made: string[] = []
  for (let i = 0; i < 7; i++) made.push(((await createListing(app, s, { title: `Generator ${i + 1}` })) as Json).id)
  // Fewer than FUZZY_BELOW exact matches of the misspelling on page 1.
  const first = await call(app, 'GET', '/v1/listings?q=genrator&limit=3')
  t.equal(first.json.searchMode, 'fuzzy')
  t.equal(first.json.correctedQuery, 'generator')
  t.ok(first.json.nextCursor)
  const second = await call(app, 'GET', `/v1/listings?q=genrator&limit=3&cursor=${first.json.nextCursor}`)
  t.equal(second.statusCode, 200)
  t.equal(second.json.searchMode, 'fuzzy')
  t.equal(second.json.correctedQuery, 'generator', 'the cursor carries the correction')
  t.same((await pageAll(app, 'q=genrator', 3)).sort(), [...made].sort(), 'every match once across pages')
  const other = await call(app, 'GET', `/v1/listings?q=generator&limit=3&cursor=${first.json.nextCursor}`)
  t.equal(other.statusCode, 400, "another query's cursor is refused")
})

void t.test('SQL-looking and odd input is just text', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const l = await createListing(app, s, {
    title: 'Drop-leaf table',
    description: 'Folding table for small rooms; see my other listings',
  })
  const inputs = [
    "'; drop table listings; --",
    "sofa' OR '1'='1",
    'table) | (1=1',
    '!!! & | <-> :* \\',
    '%_%',
    '$$; select pg_sleep(10); $$',
    'ταβλε 桌子 🛋️',
    '"unterminated',
    '-',
    'the and or',
  ]
  for (const q of inputs) {
    const res = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent(q)}`)
    t.equal(res.statusCode, 200, `q=${q}`)
  }
  const drop = await call(app, 'GET', `/v1/listings?q=${encodeURIComponent("'; drop table listings; --")}`)
  t.same(ids(drop), [l.id], 'the words are searched for ("drop", "table")')
  t.equal(Number((await app.db('listings').count({ n: '*' }).first())?.n), 1, 'the table is still there')
  const nul = await call(app, 'GET', '/v1/listings?q=sofa%00')
  t.equal(nul.statusCode, 400, 'NUL characters are refused')
  const nulTitle = await call(app, 'POST', '/v1/listings', {
    token: s.accessToken,
    body: {
      title: 'bad\u0000title',
      description: '',
      type: 'giveaway',
      condition: 'good' as const,
      categoryId: await categoryId(app.db),
    },
  })
  t.equal(nulTitle.statusCode, 400)
  const long = await call(app, 'GET', `/v1/listings?q=${'a'.repeat(201)}`)
  t.equal(long.statusCode, 400)
})

void t.test('filters', async (t) => {
  const app = await build(t)
  const a = await aUser(app)
  const b = await aUser(app)
  const sofas = await categoryId(app.db, 'sofas-chairs')
  const beds = await categoryId(app.db, 'beds-mattresses')
  const furniture = await categoryId(app.db, 'furniture')
  const phones = await categoryId(app.db, 'mobile-phones')
  const sofa = await createListing(app, a, {
    title: 'Sofa',
    categoryId: sofas,
    price: 100_000_00,
    condition: 'good' as const,
    location: PLACES.lagos,
  })
  const bed = await createListing(app, a, {
    title: 'Double bed',
    categoryId: beds,
    price: 80_000_00,
    condition: 'new',
    location: PLACES.ikeja,
  })
  const phone = await createListing(app, b, {
    title: 'Phone',
    categoryId: phones,
    price: 50_000_00,
    condition: 'like_new',
    location: PLACES.lekki,
  })
  const freeChair = await createListing(app, b, {
    title: 'Free chair',
    categoryId: sofas,
    type: 'giveaway',
    price: 0,
    condition: 'fair',
    location: PLACES.ibadan,
  })
  const noGeo = await createListing(app, b, {
    title: 'Bed frame',
    categoryId: beds,
    price: 20_000_00,
    condition: 'fair',
    location: { city: 'Lagos', state: 'Lagos' },
  })
  await createListing(app, a, { title: 'Hidden draft', categoryId: sofas, draft: true })
  const sold = await createListing(app, a, { title: 'Sold sofa', categoryId: sofas })
  await app.db('listings').where('id', sold.id).update({ status: 'sold', sold_quantity: 1 })
  const gone = await createListing(app, a, { title: 'Removed sofa', categoryId: sofas })
  await call(app, 'DELETE', `/v1/listings/${gone.id}`, { token: a.accessToken })

  const q = async (qs: string) => {
    const res = await call(app, 'GET', `/v1/listings?${qs}`)
    t.equal(res.statusCode, 200, `${qs}: ${res.body.slice(0, 200)}`)
    return new Set(ids(res))
  }
  t.same(await q(''), new Set([sofa.id, bed.id, phone.id, freeChair.id, noGeo.id]), 'only active listings')
  t.same(
    await q(`categoryId=${furniture}`),
    new Set([sofa.id, bed.id, freeChair.id, noGeo.id]),
    'a parent category includes its children',
  )
  t.same(await q(`categoryId=${beds}`), new Set([bed.id, noGeo.id]))
  t.same(await q('categoryId=00000000-0000-4000-8000-000000000000'), new Set())
  t.same(await q('condition=fair'), new Set([freeChair.id, noGeo.id]))
  t.same(await q('condition=new&condition=like_new'), new Set([bed.id, phone.id]), 'several conditions')
  t.same(await q('type=giveaway'), new Set([freeChair.id]))
  t.same(await q('type=sale&minPrice=5000000&maxPrice=8000000'), new Set([bed.id, phone.id]), 'price range, inclusive')
  t.same(await q('maxPrice=0'), new Set([freeChair.id]))
  t.same(await q(`sellerId=${b.id}`), new Set([phone.id, freeChair.id, noGeo.id]))
  t.same(
    await q(`sellerId=${b.id}&categoryId=${furniture}&condition=fair&type=sale`),
    new Set([noGeo.id]),
    'filters combine',
  )

  // Radius: Ikeja is ~9 km from central Lagos, Lekki ~24 km, Ibadan ~113 km.
  const { lat, lng } = PLACES.lagos
  t.same(await q(`lat=${lat}&lng=${lng}&radiusKm=15`), new Set([sofa.id, bed.id]), 'within 15 km')
  t.same(await q(`lat=${lat}&lng=${lng}&radiusKm=30`), new Set([sofa.id, bed.id, phone.id]), 'within 30 km')
  t.same(
    await q(`lat=${lat}&lng=${lng}&radiusKm=200`),
    new Set([sofa.id, bed.id, phone.id, freeChair.id]),
    'listings without coordinates are outside every radius',
  )
  const near = await call(app, 'GET', `/v1/listings?lat=${lat}&lng=${lng}&radiusKm=200&sort=distance`)
  t.same(ids(near), [sofa.id, bed.id, phone.id, freeChair.id], 'nearest first')
  const km = near.json.items.map((i: { distanceKm: number }) => i.distanceKm)
  t.equal(km[0], 0)
  t.ok(km[1] > 8 && km[1] < 10, `Ikeja ~9 km (${km[1]})`)
  t.ok(km[2] > 20 && km[2] < 28, `Lekki ~24 km (${km[2]})`)
  t.ok(km[3] > 105 && km[3] < 125, `Ibadan ~113 km (${km[3]})`)
  const withDistance = await call(app, 'GET', `/v1/listings?lat=${lat}&lng=${lng}`)
  t.equal(withDistance.json.items.length, 5, 'lat/lng alone filter nothing')
  t.ok(
    withDistance.json.items.every((i: Json) =>
      i.location?.lat == null ? !('distanceKm' in i) : typeof i.distanceKm === 'number',
    ),
    'distanceKm where known',
  )

  const bad: [string, string][] = [
    ['minPrice=10&maxPrice=5', '/querystring/minPrice'],
    [`radiusKm=5`, '/querystring/radiusKm'],
    [`lat=${lat}`, '/querystring/lat'],
    ['sort=distance', '/querystring/sort'],
    ['sort=relevance', '/querystring/sort'],
    ['sort=cheapest', '/querystring/sort'],
    ['minPrice=-1', '/querystring/minPrice'],
    ['minPrice=1.5', '/querystring/minPrice'],
    [`lat=91&lng=0`, '/querystring/lat'],
    [`lat=${lat}&lng=${lng}&radiusKm=0`, '/querystring/radiusKm'],
    ['condition=broken', '/querystring/condition/0'],
    ['categoryId=furniture', '/querystring/categoryId'],
    ['limit=101', '/querystring/limit'],
    ['color=red', '/querystring/color'],
  ]
  for (const [qs, path] of bad) {
    const res = await call(app, 'GET', `/v1/listings?${qs}`)
    t.equal(res.statusCode, 400, qs)
    t.ok(
      res.json.errors?.some((e: { path: string }) => e.path === path),
      `${qs} names ${path}: ${JSON.stringify(res.json.errors)}`,
    )
  }
})

void t.test('sorts order correctly and every sort pages by keyset', async (t) => {
  const app = await build(t)
  const s = await aUser(app)
  const prices = [5000, 1000, 3000, 1000, 9000, 3000, 3000, 7000]
  const made: Json[] = []
  for (const [i, price] of prices.entries()) {
    made.push(
      await createListing(app, s, {
        title: `Wooden chair number ${i}`,
        description: i % 2 ? 'chair chair chair' : 'a seat',
        price: price * 100,
        location: { city: 'Lagos', state: 'Lagos', lat: 6.5 + i * 0.01, lng: 3.4 },
      }),
    )
  }
  const byPrice = [...made].sort((a, b) => a.price - b.price || (a.id < b.id ? -1 : 1)).map((l) => l.id)
  t.same(await pageAll(app, 'sort=price_asc', 3), byPrice, 'price_asc, ties by id')
  t.same(await pageAll(app, 'sort=price_desc', 3), [...byPrice].reverse(), 'price_desc')
  t.same(await pageAll(app, 'sort=newest', 3), made.map((l) => l.id).reverse(), 'newest')
  t.same(
    await pageAll(app, 'lat=6.5&lng=3.4&sort=distance', 3),
    made.map((l) => l.id),
    'distance',
  )
  const relevance = await pageAll(app, 'q=chair', 3)
  t.same(
    new Set(relevance.slice(0, 4)),
    new Set(made.filter((_, i) => i % 2).map((l) => l.id)),
    'more mentions rank higher',
  )
  t.equal(relevance.length, 8)

  const first = await call(app, 'GET', '/v1/listings?sort=price_asc&limit=2')
  const wrongSort = await call(app, 'GET', `/v1/listings?sort=newest&limit=2&cursor=${first.json.nextCursor}`)
  t.equal(wrongSort.statusCode, 400, 'a cursor from another sort is refused')
  t.equal((await call(app, 'GET', '/v1/listings?cursor=bm9wZQ')).statusCode, 400)
  const forged = Buffer.from(JSON.stringify(['newest', 'exact', "x'); drop table listings; --", made[0]!.id])).toString(
    'base64url',
  )
  t.equal(
    (await call(app, 'GET', `/v1/listings?cursor=${forged}`)).statusCode,
    400,
    'a forged cursor is a 400, not a 500',
  )
  const forged2 = Buffer.from(JSON.stringify(['newest', 'exact', '2026-01-01T00:00:00Z', 'not-a-uuid'])).toString(
    'base64url',
  )
  t.equal((await call(app, 'GET', `/v1/listings?cursor=${forged2}`)).statusCode, 400)
})

void t.test('paging returns every listing exactly once while new ones are inserted', async (t) => {
  const app = await build(t)
  const sellers: SignedInUser[] = await Promise.all([aUser(app), aUser(app), aUser(app)])
  const cat = await categoryId(app.db, 'sofas-chairs')
  // 120 listings straight in the database, many sharing a price and a publication time.
  const rows = Array.from({ length: 120 }, (_, i) => ({
    seller_id: sellers[i % 3]!.id,
    title: `Armchair lot ${i}`,
    description: 'armchair',
    type: 'sale' as const,
    price: (1 + (i % 6)) * 1000_00,
    condition: 'good' as const,
    category_id: cat,
    status: 'active' as const,
    lat: 6.4 + (i % 10) * 0.01,
    lng: 3.3,
    city: 'Lagos',
    state: 'Lagos',
    published_at: app.db.raw(`now() - make_interval(mins => ?)`, [i % 7]),
  }))
  const initial = (await app.db('listings').insert(rows).returning('id')).map((r) => r.id)
  await app.db.raw('analyze listings')

  const queries = [
    'sort=newest',
    'sort=price_asc',
    'sort=price_desc',
    'q=armchair',
    'q=armchair&sort=price_asc',
    'lat=6.4&lng=3.3&sort=distance',
    `categoryId=${await categoryId(app.db, 'furniture')}&sort=newest`,
  ]
  const everInserted: string[] = []
  for (const query of queries) {
    let inserting = true
    const inserted: string[] = []
    // Three writers insert through the API while one reader pages.
    const writer = Promise.all(
      [0, 1, 2].map(async (w) => {
        for (let i = 0; inserting && i < 100; i++) {
          const seller = sellers[w]!
          const res = await createListing(app, seller, {
            title: `Armchair new ${w}-${i}`,
            description: 'armchair',
            price: (1 + (i % 6)) * 1000_00,
            categoryId: cat,
            location: { city: 'Lagos', state: 'Lagos', lat: 6.4 + (i % 10) * 0.01, lng: 3.3 },
          })
          inserted.push(res.id)
        }
      }),
    )
    const seen = await pageAll(app, query, 7)
    inserting = false
    await writer
    t.ok(inserted.length > 0, `${query}: listings were inserted while paging (${inserted.length})`)
    t.equal(new Set(seen).size, seen.length, `${query}: no duplicates`)
    const missing = initial.filter((id) => !seen.includes(id))
    t.same(missing, [], `${query}: every listing that existed before paging appears`)
    everInserted.push(...inserted)
    t.ok(
      seen.every((id) => initial.includes(id) || everInserted.includes(id)),
      `${query}: nothing foreign`,
    )
  }
})

void t.test('relevance ranks a bounded window of the newest matches, stable across pages', async (t) => {
  const app = await build(t)
  const seller = await aUser(app)
  const cat = await categoryId(app.db, 'sofas-chairs')
  const rows = Array.from({ length: 120 }, (_, i) => ({
    seller_id: seller.id,
    title: `Rocking chair ${i}`,
    description: i % 3 ? 'chair' : 'chair chair chair, a very good chair',
    type: 'sale' as const,
    price: 1000_00,
    condition: 'good' as const,
    category_id: cat,
    status: 'active' as const,
    published_at: app.db.raw(`now() - make_interval(mins => ?)`, [i]),
  }))
  const inserted = await app.db('listings').insert(rows).returning(['id'])
  const newest50 = inserted.slice(0, 50).map((r) => r.id)
  const search = createSearchService({ blobs: app.catalogue.blobs, relevanceWindow: 50 })
  const ctx = { db: app.db, log: app.log }

  const seen: string[] = []
  const added: string[] = []
  let cursor: string | undefined
  let page = 0
  do {
    const res = await search.search(ctx, { q: 'chair', limit: 7, ...(cursor ? { cursor } : {}) })
    seen.push(...res.items.map((i) => i.id))
    cursor = res.nextCursor ?? undefined
    // Listings published between pages join the window; none of the first 50 drops out of it.
    if (page++ % 2 === 0)
      added.push(
        (await createListing(app, seller, { title: `Office chair new ${page}`, description: 'chair', categoryId: cat }))
          .id,
      )
  } while (cursor)
  t.equal(new Set(seen).size, seen.length, 'no duplicates')
  t.same(
    newest50.filter((id) => !seen.includes(id)),
    [],
    'every listing of the window appears',
  )
  t.same(
    seen.filter((id) => !newest50.includes(id) && !added.includes(id)),
    [],
    'nothing older than the window',
  )
  const firstPage = await search.search(ctx, { q: 'chair', limit: 10 })
  const ranks = firstPage.items.map((i) => i.id)
  const heavy = new Set(inserted.filter((_, i) => i % 3 === 0).map((r) => r.id))
  t.ok(
    ranks.slice(0, 5).every((id) => heavy.has(id)),
    'the most relevant come first',
  )
})
