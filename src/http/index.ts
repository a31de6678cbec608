/** The public surface of src/http: other folders import from here, never from its files. */

export { actorCtx, ctxOf } from './context.js'
export { docsPlugin } from './docs.plugin.js'
export { asyncApiPlugin } from './asyncapi.plugin.js'
export { etagOf, etagPlugin, noneMatch, type PublicRead } from './etag.js'
export { errorsPlugin, observeProblems, sendProblem, toProblem } from './errors.plugin.js'
export type { ProblemObserver } from './errors.plugin.js'
export { allowedCodes } from './openapi.js'
export { registerJsonParser } from './json-parser.js'
export { routeLimit } from './rate-limit.js'
export { HttpErrors } from './http.errors.js'
export { clientKey, consumeOrRefuse, createLimiter, fallbackRateLimitStore, retryAfterSeconds } from './limiter.js'
export { requestLogSerializer } from './logging.js'
