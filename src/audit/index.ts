/** The public surface of src/audit: other folders import from here, never from its files. */

export { audit } from './audit.service.js'
