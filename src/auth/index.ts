/** The public surface of src/auth: other folders import from here, never from its files. */

/** The access-token check on every route (config.auth), and the same check for live connections. */
export { authPlugin, resolveAccessToken } from './auth.plugin.js'
/** Authentication's error codes (a banned account is refused at sign-in too). */
export { AuthErrors } from './auth.errors.js'
/** Whether sessions are still live (set-based), and the error a request on an ended one gets. */
export { SESSION_ENDS_SQL, sessionEnds, sessionEndedError, sessionEndReasonOf } from './session-end.js'
