import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, TITLES, type ProblemFieldError } from '../shared/index.js'

type Problem = {
  type: string
  title: string
  status: number
  detail: string
  code: string
  instance?: string
  errors?: ProblemFieldError[]
  [k: string]: unknown
}

const FASTIFY_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'The request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'Send JSON (application/json)',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: 'Content-Length does not match the body',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', detail: 'The body is empty' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'MALFORMED_JSON', detail: 'The body is not valid JSON' },
  FST_ERR_REQ_FILE_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'The file is too large' },
  FST_PARTS_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'Too many parts' },
  FST_FILES_LIMIT: { status: 413, code: 'PAYLOAD_TOO_LARGE', detail: 'Too many files' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    detail: 'Send multipart/form-data',
  },
  FST_ERR_VALIDATION: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_BAD_URL: { status: 400, code: 'BAD_URL', detail: 'The URL is not valid' },
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'URI_TOO_LONG', detail: 'A path parameter is too long' },
}

/** PostgreSQL errors that a client's request can cause, by SQLSTATE. */
const PG_CODES: Record<string, { status: number; code: string; detail: string }> = {
  '23505': { status: 409, code: 'CONFLICT', detail: 'This already exists' },
  '23503': { status: 409, code: 'CONFLICT', detail: 'A referenced item does not exist or is still in use' },
  '23514': { status: 400, code: 'VALIDATION_FAILED', detail: 'A value is out of range' },
  '22P02': { status: 400, code: 'VALIDATION_FAILED', detail: 'A value has the wrong format' },
  '22003': { status: 400, code: 'VALIDATION_FAILED', detail: 'A number is out of range' },
  '22007': { status: 400, code: 'VALIDATION_FAILED', detail: 'A value has the wrong format' },
  '22008': { status: 400, code: 'VALIDATION_FAILED', detail: 'A date is out of range' },
  '22021': { status: 400, code: 'VALIDATION_FAILED', detail: 'A text value holds invalid characters' },
  '40001': { status: 503, code: 'TRY_AGAIN', detail: 'The request collided with another; try again' },
  '40P01': { status: 503, code: 'TRY_AGAIN', detail: 'The request collided with another; try again' },
  '57014': { status: 503, code: 'TIMEOUT', detail: 'The request took too long' },
  '55P03': { status: 503, code: 'TRY_AGAIN', detail: 'The item is busy; try again' },
}

function validationErrors(err: FastifyError): ProblemFieldError[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>
    let path = `/${err.validationContext ?? 'body'}${v.instancePath}`
    if (typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
    if (typeof params.additionalProperty === 'string') {
      return { path: `${path}/${params.additionalProperty}`, message: 'unknown field' }
    }
    return { path, message: v.message ?? 'is invalid' }
  })
}

/** The database is unreachable (connection refused, cut, pool timeout): a 503, not a 500. */
function isDatabaseUnavailable(
  e: { name?: string; code?: string; message?: string; nativeError?: unknown } | undefined,
): boolean {
  if (!e) return false
  const inner = (e.nativeError ?? e) as { name?: string; code?: string; message?: string }
  if (e.name === 'KnexTimeoutError' || inner.name === 'KnexTimeoutError') return true
  const code = inner.code ?? ''
  if (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
      '57P01',
      '57P02',
      '57P03',
      '08000',
      '08001',
      '08003',
      '08006',
    ].includes(code)
  )
    return true
  return /Connection terminated|connection ended|Client has encountered a connection error/i.test(inner.message ?? '')
}

/** Builds the RFC 9457 body for any error; unknown errors become an opaque 500. */
export function toProblem(
  err: unknown,
  instance?: string,
): { problem: Problem; headers: Record<string, string>; internal: boolean } {
  const make = (status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem => ({
    type: `https://oja.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...(instance ? { instance } : {}),
    ...extra,
  })
  if (err instanceof AppError) {
    return {
      problem: make(err.status, err.code, err.message, {
        ...(err.extra.errors ? { errors: err.extra.errors } : {}),
        ...err.extra.data,
      }),
      headers: err.extra.headers ?? {},
      internal: false,
    }
  }
  const e = err as FastifyError & { code?: string; statusCode?: number; status?: number }
  if (e && e.validation) {
    const errors = validationErrors(e)
    return {
      problem: make(400, 'VALIDATION_FAILED', errors.map((x) => `${x.path}: ${x.message}`).join('; '), { errors }),
      headers: {},
      internal: false,
    }
  }
  const known = e?.code ? FASTIFY_CODES[e.code] : undefined
  if (known) return { problem: make(known.status, known.code, known.detail ?? e.message), headers: {}, internal: false }
  // Objection wraps driver errors; the SQLSTATE is then on nativeError.
  const sqlState = (e as { nativeError?: { code?: string } })?.nativeError?.code ?? e?.code
  const pgKnown = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? PG_CODES[sqlState] : undefined
  if (pgKnown)
    return {
      problem: make(pgKnown.status, pgKnown.code, pgKnown.detail),
      headers: pgKnown.status === 503 ? { 'retry-after': '1' } : {},
      internal: pgKnown.status >= 500,
    }
  if (isDatabaseUnavailable(e))
    return {
      problem: make(503, 'SERVICE_UNAVAILABLE', 'The service is briefly unavailable; try again'),
      headers: { 'retry-after': '2' },
      internal: true,
    }
  if (e instanceof SyntaxError && e.statusCode === 400)
    return { problem: make(400, 'MALFORMED_JSON', 'The body is not valid JSON'), headers: {}, internal: false }
  const status = e?.statusCode ?? 0
  if (status >= 400 && status < 500) {
    const code =
      status === 429
        ? 'RATE_LIMITED'
        : status === 404
          ? 'NOT_FOUND'
          : status === 413
            ? 'PAYLOAD_TOO_LARGE'
            : status === 415
              ? 'UNSUPPORTED_MEDIA_TYPE'
              : status === 408
                ? 'REQUEST_TIMEOUT'
                : 'BAD_REQUEST'
    return { problem: make(status, code, e.message || TITLES[status] || 'Bad request'), headers: {}, internal: false }
  }
  return {
    problem: make(500, 'INTERNAL', 'Something went wrong on our side; it has been logged'),
    headers: {},
    internal: true,
  }
}

/** Sends any error as a problem; also used for errors Fastify raises before routing (bad URLs). */
export function sendProblem(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const { problem, headers, internal } = toProblem(err, req.url.split('?')[0])
  if (internal) req.log.error({ err, reqId: req.id }, 'request failed')
  else if (problem.status >= 500) req.log.warn({ err, reqId: req.id }, 'request failed')
  return reply
    .code(problem.status)
    .headers({ ...headers, 'x-request-id': req.id })
    .type('application/problem+json')
    .send(problem)
}

/** Every error, from any route or hook, leaves as application/problem+json. */
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler(sendProblem)
    app.setNotFoundHandler((req, reply) => {
      const { problem } = toProblem(
        new AppError('NOT_FOUND', 404, `No route ${req.method} ${req.url.split('?')[0]}`),
        req.url.split('?')[0],
      )
      return reply.code(404).type('application/problem+json').send(problem)
    })
  },
  { name: 'oja-errors' },
)
