/** The public surface of src/categories: other folders import from here, never from its files. */

/** The feature's plugin: the `CategoryNode` schema and the tree route. */
export { categoriesFeature } from './categories.feature.js'

/** The category tree as filters use it (cached per node); trust drops the cache after an admin edit. */
export { categoryWithDescendants, forgetCategoryTree } from './categories.service.js'

/** The table this feature owns. */
export type { CategoryRow } from './categories.tables.js'
