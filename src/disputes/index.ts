/** The public surface of src/disputes: other folders import from here, never from its files. */

/** The feature's plugin: opening, reading, discussing and resolving disputes. */
export { disputesFeature } from './disputes.plugin.js'
/** The API shapes. */
export { Dispute, DisputeMessage } from './disputes.schemas.js'
/** Its rows. */
export type { DisputeMessageRow, DisputeOutcome, DisputeReason, DisputeRow, DisputeStatus } from './disputes.tables.js'
