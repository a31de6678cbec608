export type ProblemFieldError = { path: string; message: string }

/** What an error carries besides its code, status and message. */
export type ErrorExtra = {
  errors?: ProblemFieldError[]
  headers?: Record<string, string>
  data?: Record<string, unknown>
}

/**
 * A problem a client caused or must know about: it becomes an RFC 9457 answer. Made only by
 * the factories of `defineError` (lint refuses `new AppError` elsewhere), so every code that
 * can reach a client is in the catalogue.
 */
export class AppError extends Error {
  constructor(
    /** Stable SCREAMING_SNAKE code clients switch on. */
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: ErrorExtra = {},
  ) {
    super(message)
    this.name = 'AppError'
  }

  /**
   * The same problem answered with another HTTP status. Only for a code whose status clients
   * already rely on per route (OWN_LISTING: 403 on buying, 409 on wishlists and reports).
   */
  withStatus(status: number): AppError {
    return new AppError(this.code, status, this.message, this.extra)
  }

  /** The same problem with more detail for the client (`data` fields, field `errors`, headers). */
  with(extra: ErrorExtra): AppError {
    return new AppError(this.code, this.status, this.message, {
      ...this.extra,
      ...extra,
      data: { ...this.extra.data, ...extra.data },
      headers: { ...this.extra.headers, ...extra.headers },
    })
  }
}

/** One entry of the error catalogue: a code, its HTTP status and what it means. */
export type ErrorDefinition = {
  code: string
  status: number
  /** The message, or for a message built from arguments, the function's source (its template). */
  meaning: string
  /** The module that defined it (for the duplicate test's report). */
  definedAt: string
}

const catalogue: ErrorDefinition[] = []

/** Every error defined so far (each feature's `*.errors.ts` defines its own when imported). */
export function errorCatalogue(): readonly ErrorDefinition[] {
  return catalogue
}

/**
 * Defines one kind of error (as `@fastify/error`'s createError does) and enters it in the
 * catalogue: a code has one definition, with one status and one meaning, owned by the feature
 * whose rule it states; other features import it through that feature's index.ts.
 */
export function defineError<A extends unknown[] = []>(
  code: string,
  status: number,
  message: string | ((...args: A) => string),
  extra?: (...args: A) => ErrorExtra,
) {
  const definedAt = (new Error().stack?.split('\n')[2] ?? '').trim()
  catalogue.push({ code, status, meaning: typeof message === 'string' ? message : message.toString(), definedAt })
  const make = (...args: A) =>
    new AppError(code, status, typeof message === 'string' ? message : message(...args), extra?.(...args))
  return Object.assign(make, { code, status })
}

/** Problems any feature may answer. A feature's own rule gets its own code in its `*.errors.ts`. */
export const Errors = {
  validation: defineError(
    'VALIDATION_FAILED',
    400,
    (message: string, _errors: ProblemFieldError[] = []) => message,
    (_message, errors = []) => ({ errors }),
  ),
  unauthenticated: defineError('UNAUTHENTICATED', 401, (message: string = 'Sign in to do this') => message),
  forbidden: defineError('FORBIDDEN', 403, (message: string = 'You may not do this') => message),
  /** A resource that does not exist, or that the caller may not know exists. */
  notFound: defineError('NOT_FOUND', 404, (what: string = 'Resource') => `${what} not found`),
  conflict: defineError('CONFLICT', 409, (message: string) => message),
  rateLimited: defineError(
    'RATE_LIMITED',
    429,
    (retryAfterSeconds: number) => `Too many requests; try again in ${retryAfterSeconds} s`,
    (retryAfterSeconds) => ({ headers: { 'retry-after': String(retryAfterSeconds) } }),
  ),
}

export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}
