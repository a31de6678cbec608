/**
 * Browsing a category subtree reads `listings.category_l<depth>` (migration 20261211000100).
 * These tests check that the copied levels stay right whatever changes (a listing created, its
 * category changed, a category created or moved, through the API and straight in SQL), and
 * that a browse at every node of a random tree returns exactly what the old recursive query
 * over `categories` returned, for each sort, page after page.
 */
import t from 'tap'
import { build, call, type TestApp } from './helpers/app.js'
import { anAdmin, aUser } from './factories/users.js'
import { createListing } from './factories/catalogue.js'
import { categoryId } from './factories/listings.js'
import { forgetCategoryTree } from '../src/categories/index.js'

type Levels = [string | null, string | null, string | null, string | null]

async function levelsOf(app: TestApp, listingId: string): Promise<Levels> {
  const row = (await app
    .db('listings')
    .where('id', listingId)
    .first('category_l1', 'category_l2', 'category_l3', 'category_l4')) as Record<string, string | null>
  return [row.category_l1!, row.category_l2!, row.category_l3!, row.category_l4!]
}

/** Listings whose levels differ from their category's path (must always be none). */
async function strayLevels(app: TestApp): Promise<number> {
  const { rows } = await app.db.raw(
    `select count(*)::int as n from listings l join categories c on c.id = l.category_id
     where (l.category_l1, l.category_l2, l.category_l3, l.category_l4)
           is distinct from (c.path[1], c.path[2], c.path[3], c.path[4])`,
  )
  return rows[0].n
}

/** The browse as it was before the levels: the subtree by a recursive query, then its listings. */
async function oldSubtreeBrowse(app: TestApp, nodeId: string, order: string): Promise<string[]> {
  const { rows } = await app.db.raw(
    `with recursive sub as (select id from categories where id = ? union all
       select c.id from categories c join sub on c.parent_id = sub.id)
     select l.id from listings l where l.category_id in (select id from sub)
       and l.status = 'active' and not l.seller_banned
     order by ${order}`,
    [nodeId],
  )
  return rows.map((r: { id: string }) => r.id)
}

/** Every page of GET /v1/listings?categoryId=…&sort=…, following nextCursor. */
async function browseAll(app: TestApp, nodeId: string, sort: string, limit: number): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | null = null
  for (let page = 0; page < 1000; page++) {
    const res = await call(
      app,
      'GET',
      `/v1/listings?categoryId=${nodeId}&sort=${sort}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
    )
    if (res.statusCode !== 200) throw new Error(`browse ${res.statusCode} ${res.body}`)
    ids.push(...res.json.items.map((i: { id: string }) => i.id))
    cursor = res.json.nextCursor
    if (!cursor) return ids
  }
  throw new Error('browse never ended')
}

void t.test('the category levels follow listings and category moves', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const seller = await aUser(app)
  const furniture = await categoryId(app.db, 'furniture')
  const sofas = await categoryId(app.db, 'sofas-chairs')
  const electronics = await categoryId(app.db, 'electronics')
  const tvs = await categoryId(app.db, 'tvs-audio')

  const listing = await createListing(app, seller, { categoryId: sofas })
  t.same(await levelsOf(app, listing.id), [furniture, sofas, null, null], 'a new listing gets its category path')

  const moved = await call(app, 'PATCH', `/v1/listings/${listing.id}`, {
    token: seller.accessToken,
    body: { categoryId: tvs },
  })
  t.equal(moved.statusCode, 200)
  t.same(await levelsOf(app, listing.id), [electronics, tvs, null, null], 'changing its category changes the levels')

  const create = async (name: string, parentId: string | null) => {
    const res = await call(app, 'POST', '/v1/admin/categories', {
      token: admin.accessToken,
      body: { name, slug: name.toLowerCase(), parentId },
    })
    t.equal(res.statusCode, 201, `${name} created`)
    return res.json.id as string
  }
  const antiques = await create('Antiques', furniture)
  const clocks = await create('Clocks', antiques)
  const cuckoo = await create('Cuckoo', clocks)
  const deep = await createListing(app, seller, { categoryId: cuckoo })
  const inAntiques = await createListing(app, seller, { categoryId: antiques })
  t.same(await levelsOf(app, deep.id), [furniture, antiques, clocks, cuckoo], 'four levels')

  const browse = async (nodeId: string) =>
    (await call(app, 'GET', `/v1/listings?categoryId=${nodeId}&limit=100`)).json.items.map((i: { id: string }) => i.id)
  t.ok((await browse(furniture)).includes(deep.id), 'a top category shows a listing three levels below')
  t.ok((await browse(clocks)).includes(deep.id), 'a middle node shows it')

  // Re-parent Antiques (and with it Clocks and Cuckoo) under Electronics.
  const reparent = await call(app, 'PATCH', `/v1/admin/categories/${antiques}`, {
    token: admin.accessToken,
    body: { parentId: electronics },
  })
  t.equal(reparent.statusCode, 200)
  t.same(await levelsOf(app, deep.id), [electronics, antiques, clocks, cuckoo], 'a move rewrites the levels below it')
  t.same(await levelsOf(app, inAntiques.id), [electronics, antiques, null, null], 'and of the moved node itself')
  t.same(
    ((await app.db('categories').where('id', cuckoo).first('path')) as { path: string[] }).path,
    [electronics, antiques, clocks, cuckoo],
    'descendants get their new path',
  )
  t.notOk((await browse(furniture)).includes(deep.id), 'the old parent no longer shows it')
  t.ok((await browse(electronics)).includes(deep.id), 'the new parent does')

  // To the top level: every level shifts up.
  await call(app, 'PATCH', `/v1/admin/categories/${antiques}`, { token: admin.accessToken, body: { parentId: null } })
  t.same(await levelsOf(app, deep.id), [antiques, clocks, cuckoo, null], 'a move to the root shifts the levels')
  t.ok((await browse(antiques)).includes(deep.id), 'the new root shows it')

  // A rename or reorder is not a move: nothing else changes.
  const before = await app.db('listings').where('id', deep.id).first('updated_at', 'category_l1')
  await call(app, 'PATCH', `/v1/admin/categories/${antiques}`, {
    token: admin.accessToken,
    body: { name: 'Old things' },
  })
  t.same(await app.db('listings').where('id', deep.id).first('updated_at', 'category_l1'), before)
  t.equal(await strayLevels(app), 0, 'no listing anywhere disagrees with its category path')
})

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

void t.test('browse at every node of a random tree returns what the recursive query returned', async (t) => {
  const app = await build(t)
  const seed = Number(process.env.SUBTREE_SEED ?? Date.now() % 1_000_000)
  t.comment(`seed ${seed} (SUBTREE_SEED=${seed} replays it)`)
  const random = prng(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!
  const seller = await aUser(app)

  // Grow the reference tree past the four copied levels.
  const nodes = (await app.db('categories').select('id', 'parent_id')) as { id: string; parent_id: string | null }[]
  const depthOf = (id: string): number => {
    const parent = nodes.find((n) => n.id === id)!.parent_id
    return parent ? 1 + depthOf(parent) : 1
  }
  // A chain seven deep under a random root (its inner links are never moved below), then random nodes.
  const chain: string[] = []
  for (let i = 0; i < 7; i++) {
    const parentId = chain.at(-1) ?? pick(nodes.filter((n) => !n.parent_id)).id
    const [row] = await app
      .db('categories')
      .insert({ name: `Chain ${i}`, slug: `chain-${seed}-${i}`, parent_id: parentId, position: 0 })
      .returning(['id', 'parent_id'])
    nodes.push(row)
    chain.push(row.id)
  }
  const pinned = new Set(chain.slice(1))
  for (let i = 0; i < 30; i++) {
    const parents = nodes.filter((n) => depthOf(n.id) < 6)
    const parent = pick(parents)
    const [row] = await app
      .db('categories')
      .insert({ name: `Random ${i}`, slug: `random-${seed}-${i}`, parent_id: parent.id, position: i })
      .returning(['id', 'parent_id'])
    nodes.push(row)
  }

  // Listings in random categories, statuses, prices and times, in one statement (each row
  // through the trigger). Some share a price or a time, so the id tie-breaker matters.
  const statuses = ['active', 'active', 'active', 'active', 'sold', 'draft']
  const rows = Array.from({ length: 240 }, (_, i) => {
    const status = pick(statuses)
    return {
      seller_id: seller.id,
      title: `Item ${i}`,
      description: 'Random item for the subtree property test',
      type: 'sale',
      price: (1 + Math.floor(random() * 20)) * 1000_00,
      condition: 'good',
      category_id: pick(nodes).id,
      quantity: 1,
      sold_quantity: status === 'sold' ? 1 : 0,
      status,
      published_at: status === 'draft' ? null : new Date(Date.UTC(2026, 10, 1 + Math.floor(random() * 20))),
      seller_banned: random() < 0.05,
    }
  })
  await app.db('listings').insert(rows)

  // Then move a few subtrees (never under themselves) and re-file a few listings.
  const descendantsOf = (id: string): Set<string> => {
    const out = new Set([id])
    for (let grew = true; grew;) {
      grew = false
      for (const n of nodes)
        if (n.parent_id && out.has(n.parent_id) && !out.has(n.id)) {
          out.add(n.id)
          grew = true
        }
    }
    return out
  }
  for (let i = 0; i < 8; i++) {
    const node = pick(nodes.filter((n) => !pinned.has(n.id)))
    const below = descendantsOf(node.id)
    const height = Math.max(...[...below].map(depthOf)) - depthOf(node.id)
    const parents = nodes.filter((n) => !below.has(n.id) && depthOf(n.id) + 1 + height <= 10)
    const parent = random() < 0.15 || parents.length === 0 ? null : pick(parents).id
    await app.db('categories').where('id', node.id).update({ parent_id: parent })
    node.parent_id = parent
  }
  const ids = ((await app.db('listings').select('id')) as { id: string }[]).map((r) => r.id)
  for (let i = 0; i < 20; i++)
    await app
      .db('listings')
      .where('id', pick(ids))
      .update({ category_id: pick(nodes).id })
  // The edits above went straight to SQL: drop this node's copy of the tree, as an admin edit does.
  forgetCategoryTree(app.db)

  t.equal(await strayLevels(app), 0, 'every listing agrees with its category path after the moves')
  const maxDepth = Math.max(...nodes.map((n) => depthOf(n.id)))
  t.ok(maxDepth > 4, `the tree is ${maxDepth} levels deep (past the copied levels)`)

  const orders: Record<string, string> = {
    newest: 'l.published_at desc, l.id desc',
    price_asc: 'l.price, l.id',
    price_desc: 'l.price desc, l.id desc',
  }
  const mismatches: string[] = []
  let nonEmpty = 0
  for (const node of nodes) {
    for (const [sort, order] of Object.entries(orders)) {
      const expected = await oldSubtreeBrowse(app, node.id, order)
      const got = await browseAll(app, node.id, sort, 7)
      if (JSON.stringify(got) !== JSON.stringify(expected))
        mismatches.push(
          `depth ${depthOf(node.id)} ${node.id} ${sort}: ${got.length} listed, ${expected.length} expected`,
        )
      if (expected.length > 0) nonEmpty++
    }
  }
  t.same(mismatches, [], `${nodes.length * 3} browses (${nodes.length} nodes × 3 sorts) equal the recursive query`)
  t.ok(nonEmpty > nodes.length, `${nonEmpty} of them have listings to compare`)
})
