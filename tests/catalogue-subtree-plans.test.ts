/**
 * A category subtree page is one ordered range scan of its level's index, whatever the node:
 * over 20 000 generated listings, the EXPLAIN of the statement the search service sends for a
 * top category and for a leaf, in each browse sort, reads `listings` through
 * `listings_active_l<depth>_<newest|price>` (no bitmap, no sequential scan, no sort of the
 * subtree's rows: the only Sort node orders the page's 21 rows).
 */
import t from 'tap'
import { build } from './helpers/app.js'
import { categoryId } from './factories/listings.js'
import { seedBulkListings } from '../seeds/bulk-listings.js'
import { pageSql, type SearchPlan } from '../src/listings/listings.search.js'
import { categorySubtree } from '../src/categories/index.js'

type PlanNode = {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  'Plan Rows'?: number
  'Actual Rows'?: number
  Plans?: PlanNode[]
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)]

void t.test('browse at each level is one range scan of that level index', async (t) => {
  const app = await build(t)
  await seedBulkListings(app.db, 20_000, { rebuildIndexes: true })
  const db = app.db
  // As the bench database and autovacuum leave it: statistics and a visibility map (index-only scans).
  await db.raw('vacuum analyze listings')

  for (const slug of ['furniture', 'sofas-chairs']) {
    const id = await categoryId(db, slug)
    const subtree = (await categorySubtree({ db }, id))!
    for (const [sort, index] of [
      ['newest', 'newest'],
      ['price_asc', 'price'],
      ['price_desc', 'price'],
    ] as const) {
      const plan: SearchPlan = { sort, limit: 20, mode: 'exact', category: { id, depth: subtree.depth } }
      const { sql, bindings } = pageSql(db, plan)
      const explained = (await db.raw(`explain (analyze, format json) ${sql}`, bindings)).rows[0]['QUERY PLAN'][0]
        .Plan as PlanNode
      const all = nodes(explained)
      const expected = `listings_active_l${subtree.depth}_${index}`
      const scans = all.filter((n) => n['Index Name'] === expected)
      t.equal(scans.length, 1, `${slug} (depth ${subtree.depth}), ${sort}: one scan of ${expected}`)
      t.ok(
        scans.every((n) => /^Index (Only )?Scan/.test(n['Node Type']) && n['Actual Rows']! <= plan.limit + 1),
        `${slug}, ${sort}: an ordered index scan that stops after the page (${scans.map((n) => `${n['Node Type']} ${n['Actual Rows']} rows`).join('')})`,
      )
      const onListings = all.filter((n) => n['Relation Name'] === 'listings')
      t.notOk(
        onListings.some((n) => n['Node Type'] === 'Seq Scan' || n['Node Type'] === 'Bitmap Heap Scan'),
        `${slug}, ${sort}: no sequential or bitmap scan of listings`,
      )
      t.ok(
        all.filter((n) => n['Node Type'] === 'Sort').every((n) => n['Actual Rows']! <= plan.limit + 1),
        `${slug}, ${sort}: nothing sorts more than the page`,
      )
      const text = (await db.raw(`explain ${sql}`, bindings)).rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n')
      t.comment(`${slug}, ${sort}\n${text}`)
    }
  }
})
