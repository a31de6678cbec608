/** The public surface of src/auth: other folders import from here, never from its files. */

export { Banned, authPlugin, resolveAccessToken } from './auth.plugin.js'
