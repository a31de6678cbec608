/** The public surface of src/jobs: other folders import from here, never from its files. */

export { Sweeper } from './sweeper.js'
export type { Job } from './sweeper.js'
