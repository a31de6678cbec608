/** The public surface of src/events: other folders import from here, never from its files. */

export { EventSpine, purgeOldEventsJob } from './events.service.js'
export { noopPublisher } from './events.types.js'
export type { Publisher, StoredEvent } from './events.types.js'
