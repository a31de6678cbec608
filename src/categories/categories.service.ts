import type { Knex } from 'knex'
import type { Ctx } from '../shared/index.js'

export type CategoryNode = { id: string; name: string; slug: string; parentId: string | null; children: CategoryNode[] }

/** The category tree, built from one query. */
export async function categoryTree(ctx: Pick<Ctx, 'db'>): Promise<CategoryNode[]> {
  const rows = await ctx
    .db('categories')
    .orderBy([{ column: 'position' }, { column: 'name' }])
    .select('id', 'name', 'slug', 'parent_id')
  const byId = new Map<string, CategoryNode>(
    rows.map((r) => [r.id, { id: r.id, name: r.name, slug: r.slug, parentId: r.parent_id, children: [] }]),
  )
  const roots: CategoryNode[] = []
  for (const node of byId.values()) {
    const parent = node.parentId ? byId.get(node.parentId) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  return roots
}

/** How long a node trusts its copy of the category tree (another node's edit shows within this). */
const TREE_TTL_MS = 30_000
/** An id missing from the copy reloads it, at most this often (random ids cannot hammer the table). */
const MISS_RELOAD_MS = 1_000

type Tree = { loadedAt: number; ids: Set<string>; children: Map<string, string[]>; depth: Map<string, number> }
type TreeCache = { generation: number; tree?: Tree; loading?: Promise<Tree> }
const trees = new WeakMap<object, TreeCache>()

function cacheOf(db: object): TreeCache {
  let entry = trees.get(db)
  if (!entry) trees.set(db, (entry = { generation: 0 }))
  return entry
}

async function treeOf(db: Knex, force = false): Promise<Tree> {
  const entry = cacheOf(db)
  if (!force && entry.tree && Date.now() - entry.tree.loadedAt < TREE_TTL_MS) return entry.tree
  if (entry.loading) return entry.loading
  const generation = entry.generation
  const loading = (async () => {
    const rows = await db('categories').select('id', 'parent_id', db.raw('cardinality(path)::int as depth'))
    const tree: Tree = {
      loadedAt: Date.now(),
      ids: new Set(rows.map((r) => r.id)),
      children: new Map(),
      depth: new Map(rows.map((r) => [r.id, (r as unknown as { depth: number }).depth])),
    }
    for (const r of rows) {
      if (!r.parent_id) continue
      const siblings = tree.children.get(r.parent_id)
      if (siblings) siblings.push(r.id)
      else tree.children.set(r.parent_id, [r.id])
    }
    // An edit committed while this read ran has bumped the generation: do not keep the old tree.
    if (entry.generation === generation) entry.tree = tree
    return tree
  })().finally(() => {
    if (entry.loading === loading) entry.loading = undefined
  })
  entry.loading = loading
  return loading
}

/** Drops this node's copy of the category tree; called after an admin edit commits. */
export function forgetCategoryTree(db: object): void {
  const entry = cacheOf(db)
  entry.generation++
  entry.tree = undefined
  entry.loading = undefined
}

/**
 * A category id and every descendant's, for "includes sub-categories" filters. The tree is
 * reference data: each node keeps a copy (one query per 30 s instead of a recursive query
 * per browse page), dropped at once by an edit on this node. The copy is kept per database
 * handle, so a transaction gets its own (short-lived) copy, read through it.
 */
export async function categoryWithDescendants(ctx: Pick<Ctx, 'db'>, id: string): Promise<string[]> {
  return (await categorySubtree(ctx, id))?.ids ?? []
}

/**
 * How many levels of a listing's category path are copied onto the listing
 * (`listings.category_l1` .. `category_l4`, migration 20261211000100), each with its own
 * browse indexes.
 */
export const CATEGORY_LEVELS = 4

/**
 * A node's subtree as browse filters need it: every id (the node first) and the node's depth
 * (1 for a root). A node at depth d holds exactly the listings whose `category_l<d>` is the
 * node. Undefined when there is no such node. Read from this node's copy of the tree, like
 * categoryWithDescendants.
 */
export async function categorySubtree(
  ctx: Pick<Ctx, 'db'>,
  id: string,
): Promise<{ ids: string[]; depth: number } | undefined> {
  let tree = await treeOf(ctx.db)
  if (!tree.ids.has(id) && Date.now() - tree.loadedAt >= MISS_RELOAD_MS) tree = await treeOf(ctx.db, true)
  if (!tree.ids.has(id)) return undefined
  const ids = [id]
  for (let i = 0; i < ids.length; i++) ids.push(...(tree.children.get(ids[i]!) ?? []))
  return { ids, depth: tree.depth.get(id) ?? 1 }
}
