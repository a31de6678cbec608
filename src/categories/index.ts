/** The public surface of src/categories: other folders import from here, never from its files. */

/** The feature's plugin: the `CategoryNode` schema and the tree route. */
export { categoriesFeature } from './categories.feature.js'

/** The category tree as filters use it (cached per node); trust drops the cache after an admin edit. */
export { CATEGORY_LEVELS, categorySubtree, categoryWithDescendants, forgetCategoryTree } from './categories.service.js'

/** Edits of the tree and the checks before them (trust's admin tools), in the caller's transaction. */
export {
  createCategory,
  deleteCategory,
  findCategory,
  hasChildCategories,
  isInSubtree,
  updateCategory,
} from './categories.admin.js'

/** The table this feature owns. */
export type { CategoryRow } from './categories.tables.js'
