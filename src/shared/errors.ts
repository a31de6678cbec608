/** A problem a client caused or must know about: it becomes an RFC 9457 answer. */
export class AppError extends Error {
  constructor(
    /** Stable SCREAMING_SNAKE code clients switch on. */
    readonly code: string,
    readonly status: number,
    message: string,
    readonly extra: {
      errors?: ProblemFieldError[]
      headers?: Record<string, string>
      data?: Record<string, unknown>
    } = {},
  ) {
    super(message)
    this.name = 'AppError'
  }
}

export type ProblemFieldError = { path: string; message: string }

/** Makes a factory for one kind of error, in the manner of `@fastify/error`'s createError. */
export function defineError<A extends unknown[] = []>(
  code: string,
  status: number,
  message: string | ((...args: A) => string),
) {
  const make = (...args: A) => new AppError(code, status, typeof message === 'string' ? message : message(...args))
  return Object.assign(make, { code, status })
}

export const Errors = {
  validation: (message: string, errors: ProblemFieldError[] = []) =>
    new AppError('VALIDATION_FAILED', 400, message, { errors }),
  unauthenticated: (message = 'Sign in to do this') => new AppError('UNAUTHENTICATED', 401, message),
  forbidden: (message = 'You may not do this') => new AppError('FORBIDDEN', 403, message),
  notFound: (what = 'Resource') => new AppError('NOT_FOUND', 404, `${what} not found`),
  conflict: (message: string, code = 'CONFLICT') => new AppError(code, 409, message),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('RATE_LIMITED', 429, `Too many requests; try again in ${retryAfterSeconds} s`, {
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
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
