/** The public surface of src/wants: other folders import from here, never from its files. */

export { notifyWantMatches } from './want-matching.js'
export { wantsRoutes } from './wants.routes.js'
export { createWantsService } from './wants.service.js'
export type { WantsService } from './wants.service.js'
