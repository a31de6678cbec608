/** The public surface of src/wants: other folders import from here, never from its files. */

/** The feature's plugin: the wants routes. */
export { wantsFeature } from './wants.feature.js'

/** Want matching, run by listings in its own transaction when a listing is first published. */
export { notifyWantMatches } from './want-matching.js'

/** A want looked up by id, in the caller's database handle or transaction, and who may see it. */
export { findWant } from './wants.service.js'
export { isWantVisibleTo, openWantSql } from './visibility.js'

/** A ban or an unban of an author takes their wants off every public path or puts them back. */
export { setAuthorBanned } from './visibility.js'

/** The error codes of wants (chat answers conversations about a want with them too). */
export { WantErrors } from './wants.errors.js'

/** The table this feature owns. */
export type { WantRow } from './wants.tables.js'
