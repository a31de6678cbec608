/** The public surface of src/jobs: other folders import from here, never from its files. */

export { Sweeper } from './sweeper.js'
export type { Job } from './sweeper.js'

/** The loop of an outbox sender (mail, push): kicked after a commit, polling otherwise. */
export { PollLoop } from './poll-loop.js'
