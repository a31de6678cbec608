import type { Db } from '../db/index.js'
import type { CategoryRow } from './categories.tables.js'

/**
 * Writes to the category tree, in the caller's transaction (trust's admin tools run the
 * checks, the audit entry and the cache drop around them).
 */

/** Adds a node to the tree; returns the stored row. */
export async function createCategory(
  db: Db,
  input: { name: string; slug: string; parentId: string | null; position: number },
): Promise<CategoryRow> {
  const [row] = await db('categories')
    .insert({ name: input.name, slug: input.slug, parent_id: input.parentId, position: input.position })
    .returning('*')
  return row!
}

/** Changes the given fields of a node; returns the stored row, or undefined when there is no such node. */
export async function updateCategory(
  db: Db,
  id: string,
  patch: { name?: string; slug?: string; parentId?: string | null; position?: number },
): Promise<CategoryRow | undefined> {
  const [row] = await db('categories')
    .where('id', id)
    .update({
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.slug !== undefined ? { slug: patch.slug } : {}),
      ...(patch.parentId !== undefined ? { parent_id: patch.parentId } : {}),
      ...(patch.position !== undefined ? { position: patch.position } : {}),
    })
    .returning('*')
  return row
}

/** Deletes a node (the caller has checked it has no children and no listings); returns how many rows went. */
export async function deleteCategory(db: Db, id: string): Promise<number> {
  return db('categories').where('id', id).delete()
}

/** A node by id or by slug (admins check parents and slugs before an edit). */
export async function findCategory(db: Db, by: { id: string } | { slug: string }): Promise<CategoryRow | undefined> {
  return db('categories').where(by).first()
}

/** Whether `nodeId` is `rootId` or below it: moving `rootId` under `nodeId` would make a cycle. */
export async function isInSubtree(db: Db, rootId: string, nodeId: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: Pick<CategoryRow, 'id'>[] }>(
    'with recursive sub as (select id from categories where id = ? ' +
      'union all select c.id from categories c join sub on c.parent_id = sub.id) select id from sub where id = ?',
    [rootId, nodeId],
  )
  return rows.length > 0
}

/** Whether a node has children (it cannot be deleted then). */
export async function hasChildCategories(db: Db, id: string): Promise<boolean> {
  return (await db('categories').where('parent_id', id).first('id')) !== undefined
}
