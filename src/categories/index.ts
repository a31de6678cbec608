/** The public surface of src/categories: other folders import from here, never from its files. */

export { CategoryNode, categoriesRoutes } from './categories.routes.js'
export { categoryWithDescendants, forgetCategoryTree } from './categories.service.js'
