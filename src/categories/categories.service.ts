import type { Ctx } from '../shared/context.js'

export type CategoryNode = { id: string; name: string; slug: string; parentId: string | null; children: CategoryNode[] }

/** The category tree, built from one query. */
export async function categoryTree(ctx: Pick<Ctx, 'db'>): Promise<CategoryNode[]> {
  const rows = (await ctx.db('categories').orderBy([{ column: 'position' }, { column: 'name' }]).select('id', 'name', 'slug', 'parent_id')) as { id: string; name: string; slug: string; parent_id: string | null }[]
  const byId = new Map<string, CategoryNode>(rows.map((r) => [r.id, { id: r.id, name: r.name, slug: r.slug, parentId: r.parent_id, children: [] }]))
  const roots: CategoryNode[] = []
  for (const node of byId.values()) {
    const parent = node.parentId ? byId.get(node.parentId) : undefined
    if (parent) parent.children.push(node)
    else roots.push(node)
  }
  return roots
}

/** A category id and every descendant's, for "includes sub-categories" filters. */
export async function categoryWithDescendants(ctx: Pick<Ctx, 'db'>, id: string): Promise<string[]> {
  const { rows } = (await ctx.db.raw(
    `with recursive sub as (select id from categories where id = ? union all select c.id from categories c join sub on c.parent_id = sub.id) select id from sub`,
    [id],
  )) as { rows: { id: string }[] }
  return rows.map((r) => r.id)
}
