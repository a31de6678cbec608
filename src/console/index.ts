/** The public surface of src/console: the admin console's static files and their CSP. */
export { consolePlugin, CONSOLE_CSP, CONSOLE_ROOT } from './console.plugin.js'
