/** The public surface of src/audit: other folders import from here, never from its files. */

/** Appends an entry to the audit trail, in the caller's transaction (or as a CTE of the caller's statement). */
export { audit, auditFromSql } from './audit.service.js'

/** An entry of the trail, as trust's admin tools read it back. */
export type { AuditRow } from './audit.tables.js'
