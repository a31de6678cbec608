import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { AppError, Errors, TITLES, type ProblemFieldError } from '../shared/index.js'
import { HttpErrors } from './http.errors.js'

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

/** Fastify's own errors, by code, as the problems clients see. */
const FASTIFY_CODES: Record<string, () => AppError> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => HttpErrors.payloadTooLarge('The request body is too large'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => HttpErrors.unsupportedMediaType('Send JSON (application/json)'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => HttpErrors.contentLengthMismatch(),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => HttpErrors.malformedJson('The body is empty'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => HttpErrors.malformedJson(),
  FST_ERR_REQ_FILE_TOO_LARGE: () => HttpErrors.payloadTooLarge('The file is too large'),
  FST_PARTS_LIMIT: () => HttpErrors.payloadTooLarge('Too many parts'),
  FST_FILES_LIMIT: () => HttpErrors.payloadTooLarge('Too many files'),
  FST_INVALID_MULTIPART_CONTENT_TYPE: () => HttpErrors.unsupportedMediaType('Send multipart/form-data'),
  FST_ERR_BAD_URL: () => HttpErrors.badUrl(),
  FST_ERR_MAX_PARAM_LENGTH: () => HttpErrors.uriTooLong(),
}

/** PostgreSQL errors that a client's request can cause, by SQLSTATE. */
const PG_CODES: Record<string, () => AppError> = {
  '23505': () => Errors.conflict('This already exists'),
  '23503': () => Errors.conflict('A referenced item does not exist or is still in use'),
  '23514': () => Errors.validation('A value is out of range'),
  '22P02': () => Errors.validation('A value has the wrong format'),
  '22003': () => Errors.validation('A number is out of range'),
  '22007': () => Errors.validation('A value has the wrong format'),
  '22008': () => Errors.validation('A date is out of range'),
  '22021': () => Errors.validation('A text value holds invalid characters'),
  '40001': () => HttpErrors.tryAgain('The request collided with another; try again'),
  '40P01': () => HttpErrors.tryAgain('The request collided with another; try again'),
  '57014': () => HttpErrors.timeout(),
  '55P03': () => HttpErrors.tryAgain('The item is busy; try again'),
}

const oneOf = (values: unknown[]) =>
  `must be one of: ${values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`

/**
 * Ajv's errors as one entry per field and failure. A choice of values says which: `enum`
 * ("must be one of: a, b, c"), and a union of constants (an `anyOf` of `const`, which Ajv
 * reports once per branch and once more for the `anyOf`) is folded into that one entry too.
 */
function validationErrors(err: FastifyError): ProblemFieldError[] {
  const all = err.validation ?? []
  // The `anyOf`s whose branches are all constants, by schema path: their allowed values.
  const constChoices = new Map<string, unknown[]>()
  for (const v of all) {
    if (v.keyword !== 'const') continue
    const m = /^(.*)\/anyOf\/\d+\/const$/.exec(v.schemaPath)
    if (!m) continue
    const list = constChoices.get(m[1]!) ?? []
    list.push((v.params as { allowedValue?: unknown }).allowedValue)
    constChoices.set(m[1]!, list)
  }
  // An anyOf with another kind of branch (a pattern, an object) keeps Ajv's own errors.
  for (const v of all) {
    const m = /^(.*?)\/anyOf\/\d+\//.exec(v.schemaPath)
    if (m && constChoices.has(m[1]!) && v.keyword !== 'const') constChoices.delete(m[1]!)
  }
  const out: ProblemFieldError[] = []
  const seen = new Set<string>()
  for (const v of all) {
    const params = v.params as Record<string, unknown>
    let path = `/${err.validationContext ?? 'body'}${v.instancePath}`
    if (typeof params.missingProperty === 'string') path += `/${params.missingProperty}`
    let entry: ProblemFieldError
    if (typeof params.additionalProperty === 'string') {
      entry = { path: `${path}/${params.additionalProperty}`, message: 'unknown field' }
    } else if (v.keyword === 'enum' && Array.isArray(params.allowedValues)) {
      entry = { path, message: oneOf(params.allowedValues) }
    } else if (v.keyword === 'const' && constChoices.has(v.schemaPath.replace(/\/anyOf\/\d+\/const$/, ''))) {
      continue // folded into its anyOf's entry
    } else if (v.keyword === 'anyOf' && constChoices.has(v.schemaPath.replace(/\/anyOf$/, ''))) {
      entry = { path, message: oneOf(constChoices.get(v.schemaPath.replace(/\/anyOf$/, ''))!) }
    } else if (v.keyword === 'const') {
      entry = { path, message: oneOf([params.allowedValue]) }
    } else {
      entry = { path, message: v.message ?? 'is invalid' }
    }
    const id = `${entry.path}\u0000${entry.message}`
    if (seen.has(id)) continue
    seen.add(id)
    out.push(entry)
  }
  return out
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
  const fromAppError = (err: AppError, internal = false) => ({
    problem: make(err.status, err.code, err.message, {
      ...(err.extra.errors ? { errors: err.extra.errors } : {}),
      ...err.extra.data,
    }),
    headers: err.extra.headers ?? {},
    internal,
  })
  if (err instanceof AppError) return fromAppError(err)
  const e = err as FastifyError & { code?: string; statusCode?: number; status?: number }
  if (e && e.validation) {
    const errors = validationErrors(e)
    return fromAppError(Errors.validation(errors.map((x) => `${x.path}: ${x.message}`).join('; '), errors))
  }
  const known = e?.code ? FASTIFY_CODES[e.code] : undefined
  if (known) return fromAppError(known())
  // Objection wraps driver errors; the SQLSTATE is then on nativeError.
  const sqlState = (e as { nativeError?: { code?: string } })?.nativeError?.code ?? e?.code
  const pgKnown = typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? PG_CODES[sqlState] : undefined
  if (pgKnown) {
    const problem = pgKnown()
    return fromAppError(problem, problem.status >= 500)
  }
  if (isDatabaseUnavailable(e)) return fromAppError(HttpErrors.serviceUnavailable(), true)
  if (e instanceof SyntaxError && e.statusCode === 400) return fromAppError(HttpErrors.malformedJson())
  const status = e?.statusCode ?? 0
  if (status >= 400 && status < 500) {
    // A plugin's own 4xx (rate limit, multipart, ...) keeps its status and message; the code comes from the catalogue.
    const code = (
      status === 429
        ? Errors.rateLimited
        : status === 404
          ? Errors.notFound
          : status === 413
            ? HttpErrors.payloadTooLarge
            : status === 415
              ? HttpErrors.unsupportedMediaType
              : status === 408
                ? HttpErrors.requestTimeout
                : HttpErrors.badRequest
    ).code
    return { problem: make(status, code, e.message || TITLES[status] || 'Bad request'), headers: {}, internal: false }
  }
  return fromAppError(HttpErrors.internal(), true)
}

/** Told of every problem answered (the test suite checks each code is one its route declares). */
export type ProblemObserver = (req: FastifyRequest, problem: { status: number; code: string }) => void
let observer: ProblemObserver | undefined
export function observeProblems(fn: ProblemObserver | undefined): void {
  observer = fn
}

/** Sends any error as a problem; also used for errors Fastify raises before routing (bad URLs). */
export function sendProblem(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  const { problem, headers, internal } = toProblem(err, req.url.split('?')[0])
  observer?.(req, problem)
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
      const path = req.url.split('?')[0]
      const { problem } = toProblem(Errors.notFound(`Route ${req.method} ${path}`), path)
      return reply.code(404).type('application/problem+json').send(problem)
    })
  },
  { name: 'oja-errors' },
)
