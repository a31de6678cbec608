/** The public surface of src/http: other folders import from here, never from its files. */

export { actorCtx, ctxOf } from './context.js'
export { docsPlugin } from './docs.plugin.js'
export { asyncApiPlugin } from './asyncapi.plugin.js'
export { etagOf, etagPlugin, noneMatch, type PublicRead } from './etag.js'
export { errorsPlugin, sendProblem, toProblem } from './errors.plugin.js'
export { registerJsonParser } from './json-parser.js'
export { routeLimit } from './rate-limit.js'
export { HttpErrors } from './http.errors.js'
export { clientKey, consumeOrRefuse, createLimiter, fallbackRateLimitStore, retryAfterSeconds } from './limiter.js'
export { requestLogSerializer } from './logging.js'
