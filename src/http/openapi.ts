/**
 * The finishing pass over the OpenAPI document @fastify/swagger builds from the route
 * schemas, so that a generator gets good names and a reader gets the whole contract:
 *
 * - every schema with a `title` (Listing, Order, Cart, ...) becomes one named component,
 *   referenced wherever it appears; a request body or a 2xx answer without a title is named
 *   after its operation (`MarkConversationReadResponse`, `LoginBody`), never after its path;
 * - error answers are `application/problem+json` with, per route and status, the `code`
 *   values it can answer (the route's own ones from `route-problems.ts`, plus the
 *   problems every route can give) and their meanings from the error catalogue;
 * - responses get real descriptions, and every request body and JSON answer an example (the
 *   schema's own `examples`, else one built from the schema).
 */
import { errorCatalogue } from '../shared/index.js'
import { ROUTE_PROBLEMS } from './route-problems.js'

type Json = Record<string, unknown>
type Doc = {
  paths?: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Json>; [k: string]: unknown }
  [k: string]: unknown
}
type Operation = {
  operationId?: string
  summary?: string
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json; example?: unknown }> }
  responses?: Record<string, Response | { $ref: string }>
  security?: unknown[]
  [k: string]: unknown
}
type Response = {
  description?: string
  headers?: Json
  content?: Record<string, { schema?: Json; example?: unknown }>
}

/** Codes any route may answer, whatever it does: the HTTP layer's and the schema check's. */
export const COMMON_CODES = [
  'VALIDATION_FAILED',
  'MALFORMED_JSON',
  'MALFORMED_REQUEST',
  'BAD_URL',
  'BAD_REQUEST',
  'URI_TOO_LONG',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'REQUEST_TIMEOUT',
  'RATE_LIMITED',
  'TRY_AGAIN',
  'TIMEOUT',
  'SERVICE_UNAVAILABLE',
  'OVERLOADED',
  'INTERNAL',
] as const

/** Codes a signed-in route may answer before its handler runs (token checks, bans). */
export const AUTH_CODES = ['UNAUTHENTICATED', 'TOKEN_EXPIRED', 'SESSION_REVOKED', 'ACCOUNT_BANNED'] as const
/** And an admin route: the caller is not an admin. */
export const ADMIN_CODES = ['FORBIDDEN'] as const

const SHARED = new Set<string>([...COMMON_CODES, ...AUTH_CODES, ...ADMIN_CODES])

/** The codes a route declares, by operationId: its own, without the common ones. */
export function declaredCodes(operationId: string): readonly string[] {
  return ROUTE_PROBLEMS[operationId] ?? []
}

/** Every code an operation may answer: its own and the ones its kind of route shares. */
export function allowedCodes(operationId: string, auth: string | undefined): Set<string> {
  const codes = new Set<string>([...COMMON_CODES, ...declaredCodes(operationId)])
  if (auth) for (const c of AUTH_CODES) codes.add(c)
  if (auth === 'admin') for (const c of ADMIN_CODES) codes.add(c)
  return codes
}

const REASONS: Record<string, string> = {
  '200': 'OK',
  '201': 'Created',
  '202': 'Accepted',
  '204': 'No content',
  '302': 'Found',
  '303': 'See other',
  '304': 'Not modified: the copy you hold (If-None-Match) is current',
}

const pascal = (id: string) => id.charAt(0).toUpperCase() + id.slice(1)
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Stable JSON for comparing two schemas that claim one name. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (isObject(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}

/** Keywords whose value is one schema, a list of schemas, or a map of schemas. */
const ONE = ['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else']
const MANY = ['allOf', 'anyOf', 'oneOf', 'prefixItems']
const MAP = ['properties', 'patternProperties', '$defs', 'definitions']

export class OpenApiNamingError extends Error {}

/** Moves titled schemas into components (depth first), returning the schema or a `$ref` to it. */
function hoist(schema: unknown, components: Record<string, Json>): unknown {
  if (!isObject(schema)) return schema
  const out: Json = { ...schema }
  for (const k of ONE) if (isObject(out[k])) out[k] = hoist(out[k], components)
  for (const k of MANY) if (Array.isArray(out[k])) out[k] = (out[k] as unknown[]).map((s) => hoist(s, components))
  for (const k of MAP)
    if (isObject(out[k]))
      out[k] = Object.fromEntries(Object.entries(out[k] as Json).map(([n, s]) => [n, hoist(s, components)]))
  const title = out.title
  if (typeof title !== 'string' || !/^[A-Z][A-Za-z0-9]*$/.test(title)) return out
  // `T | null` (OrNull's type list): the component is T, the use says "or null".
  if (Array.isArray(out.type) && out.type.includes('null')) {
    const types = (out.type as string[]).filter((t) => t !== 'null')
    const ref = hoist({ ...out, type: types.length === 1 ? types[0] : types }, components)
    return { oneOf: [ref, { type: 'null' }] }
  }
  const existing = components[title]
  // One schema used in several places may carry a description of its use at each: the
  // component keeps the first, a use that says something else says it beside its $ref.
  const { description, ...shape } = out
  if (existing) {
    const { description: first, ...existingShape } = existing
    if (canonical(existingShape) !== canonical(shape))
      throw new OpenApiNamingError(
        `two different schemas are both titled ${title}: ${canonical(existingShape)} and ${canonical(shape)}`,
      )
    const ref = { $ref: `#/components/schemas/${title}` }
    return description !== undefined && description !== first ? { ...ref, description } : ref
  }
  components[title] = out
  return { $ref: `#/components/schemas/${title}` }
}

/**
 * Names a body or an answer: by its title, or after its operation. A schema derived from a
 * titled one (`Type.Partial(AddressInput)`) keeps the title but not the shape, so it too is
 * named after its operation.
 */
function nameAfter(schema: Json, name: string, components: Record<string, Json>): Json {
  if (typeof schema.$ref === 'string') return schema
  if (typeof schema.title === 'string') {
    try {
      return hoist(schema, components) as Json
    } catch (err) {
      if (!(err instanceof OpenApiNamingError)) throw err
    }
  }
  return hoist({ ...schema, title: name }, components) as Json
}

function resolve(schema: unknown, components: Record<string, Json>, depth = 0): Json {
  if (!isObject(schema) || depth > 20) return {}
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.replace('#/components/schemas/', '')
    return resolve(components[name], components, depth + 1)
  }
  return schema
}

/** A plausible value for a schema: its own example or default first, else one made from its type and format. */
export function sample(schema: unknown, components: Record<string, Json>, depth = 0, key = ''): unknown {
  const s = resolve(schema, components)
  if (depth > 8) return undefined
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0]
  if (s.example !== undefined) return s.example
  if (s.const !== undefined) return s.const
  if (s.default !== undefined) return s.default
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0]
  for (const k of ['oneOf', 'anyOf'] as const) {
    const branches = s[k]
    if (Array.isArray(branches)) {
      const first = branches.find((b) => resolve(b, components).type !== 'null') ?? branches[0]
      return sample(first, components, depth + 1, key)
    }
  }
  if (Array.isArray(s.allOf)) {
    const merged: Json = {}
    for (const part of s.allOf) {
      const v = sample(part, components, depth + 1, key)
      if (isObject(v)) Object.assign(merged, v)
    }
    return merged
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string | undefined]
  const type = types.find((t) => t && t !== 'null') ?? types[0]
  switch (type) {
    case 'object': {
      const out: Json = {}
      const props = isObject(s.properties) ? s.properties : {}
      for (const [k, v] of Object.entries(props)) {
        const value = sample(v, components, depth + 1, k)
        if (value !== undefined) out[k] = value
      }
      return out
    }
    case 'array': {
      const item = sample(s.items, components, depth + 1, key)
      return item === undefined ? [] : [item]
    }
    case 'integer':
    case 'number': {
      const byKey = NUMBERS[key]
      const min = typeof s.minimum === 'number' ? s.minimum : -Infinity
      const max = typeof s.maximum === 'number' ? s.maximum : Infinity
      if (byKey !== undefined && byKey >= min && byKey <= max) return byKey
      if (/amount|price|total|fee|balance|available|pending|discount|subtotal|value/i.test(key) && max >= 250000)
        return 250000
      return Math.max(min === -Infinity ? 1 : min, Math.min(1, max))
    }
    case 'boolean':
      return true
    case 'null':
      return null
    case 'string':
      return sampleString(s, key)
    default:
      return undefined
  }
}

/** Numbers that read right for a field of this name (kobo for money). */
const NUMBERS: Record<string, number> = {
  lat: 6.4311,
  lng: 3.4215,
  quantity: 1,
  availableQuantity: 1,
  rating: 5,
  stars: 5,
  seq: 42,
  expiresIn: 900,
  width: 1600,
  height: 1200,
  position: 0,
}

/** Strings that read right for a field of this name. */
const STRINGS: Record<string, string> = {
  name: 'Ada Obi',
  fullName: 'Ada Obi',
  email: 'ada@example.com',
  newEmail: 'ada.obi@example.com',
  password: 'correct horse battery staple',
  currentPassword: 'correct horse battery staple',
  newPassword: 'a longer passphrase, 2026',
  title: 'Barely used Kenwood blender',
  description: 'Used twice, all parts in the box. Pick up in Yaba or I can ship.',
  body: 'Is this still available? Could you do ₦20,000?',
  bio: 'Decluttering a three-bedroom flat before moving to Abuja.',
  note: 'Checked with both parties',
  reason: 'Looks like a counterfeit',
  detail: 'The photos are from another listing',
  city: 'Lagos',
  state: 'Lagos',
  country: 'NG',
  phone: '+2348012345678',
  line1: '12 Admiralty Way, Lekki Phase 1',
  currency: 'NGN',
  code: 'WELCOME10',
  reference: 'oja_9f8c2e41b7a04d3c',
  accessToken: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIzZjJjIn0.sig',
  refreshToken: 'c2Vzc2lvbg.9f8c2e41b7a04d3c',
  token: 'a1b2c3d4e5f6a7b8c9d0',
  cursor: 'eyJpZCI6IjNmMmMifQ',
  nextCursor: 'eyJpZCI6IjNmMmMifQ',
  clientId: 'c-1733567400000-1',
  slug: 'home-appliances',
  q: 'blender',
  userAgent: 'Oja/2.3 (iPhone; iOS 18.1)',
  carrier: 'GIG Logistics',
  trackingNumber: 'GIG123456789',
  bankCode: '058',
  accountNumber: '0123456789',
  accountName: 'ADA OBI',
}

function sampleString(s: Json, key: string): string {
  switch (s.format) {
    case 'uuid':
      return '3f2c7a4e-8b1d-4c55-9a0e-2d6f1b7c9e10'
    case 'date-time':
      return '2026-12-07T10:30:00.000Z'
    case 'date':
      return '2026-12-07'
    case 'email':
      return STRINGS[key] ?? 'ada@example.com'
    case 'uri':
      return 'https://oja.example/listings/3f2c7a4e'
    case 'binary':
      return '(binary)'
  }
  if (key === 'callbackUrl') return 'ojaapp://payment-done'
  if (key === 'authorizationUrl') return 'https://checkout.paystack.com/0peioxfhpn'
  if (/url$/i.test(key) || ['thumb', 'medium', 'large'].includes(key))
    return `https://cdn.oja.example/images/3f2c7a4e/${key === 'url' ? 'large' : key}.webp`
  const byKey = STRINGS[key]
  const min = typeof s.minLength === 'number' ? s.minLength : 0
  const max = typeof s.maxLength === 'number' ? s.maxLength : Infinity
  if (byKey !== undefined && byKey.length >= min && byKey.length <= max && typeof s.pattern !== 'string') return byKey
  if (byKey !== undefined && typeof s.pattern === 'string' && new RegExp(s.pattern).test(byKey)) return byKey
  const text = 'text'
  return min > text.length ? text.padEnd(min, 'x') : text.slice(0, Math.max(min, Math.min(text.length, max)))
}

function problemDescription(status: string, codes: string[]): string {
  const meanings = new Map(errorCatalogue().map((e) => [e.code, e]))
  const lines = codes.map((c) => {
    const m = meanings.get(c)
    const meaning = m && !m.meaning.startsWith('(') ? `: ${m.meaning}` : ''
    return `- \`${c}\`${meaning}`
  })
  return [`Problem (RFC 9457), status ${status}. \`code\` is one of:`, ...lines].join('\n')
}

/** What the routes' config tells the document, by method and OpenAPI path. */
export type RouteFacts = {
  /** The operation's auth kind (`required`, `optional`, `admin`), if any. */
  authOf: (method: string, path: string) => string | undefined
  /** The public reads that answer ETag and 304 to If-None-Match. */
  conditional: (method: string, path: string) => boolean
}

/** The finishing pass; see the module comment. Throws OpenApiNamingError on a clash of names. */
export function finishDocument(doc: Doc, { authOf, conditional }: RouteFacts): Doc {
  const components: Record<string, Json> = { ...(doc.components?.schemas ?? {}) }
  const sharedResponses: Record<string, Response> = {}
  const sharedNames = new Map<string, string>()
  const sharedResponse = (status: string, response: Response): { $ref: string } => {
    const key = canonical(response)
    let name = sharedNames.get(key)
    if (!name) {
      const taken = Object.keys(sharedResponses).filter((n) => n.startsWith(`Problem${status}`)).length
      name = taken === 0 ? `Problem${status}` : `Problem${status}_${taken + 1}`
      sharedNames.set(key, name)
      sharedResponses[name] = response
    }
    return { $ref: `#/components/responses/${name}` }
  }
  const statusOf = new Map(errorCatalogue().map((e) => [e.code, e.status]))
  const paths: Record<string, Record<string, Operation>> = {}
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    paths[path] = {}
    for (const [method, op] of Object.entries(ops)) {
      if (!isObject(op)) {
        paths[path][method] = op
        continue
      }
      const id = op.operationId ?? ''
      const name = pascal(id)
      const next: Operation = { ...op }
      // Request bodies.
      if (op.requestBody?.content) {
        const content: Record<string, { schema?: Json; example?: unknown }> = {}
        for (const [type, media] of Object.entries(op.requestBody.content)) {
          const schema = media.schema ? nameAfter(media.schema, `${name}Body`, components) : undefined
          content[type] = { ...media, ...(schema ? { schema } : {}) }
          if (schema && type.includes('json')) content[type]!.example = sample(schema, components)
        }
        // An action's empty body (`{}` or none) may be left out.
        const json = resolve(content['application/json']?.schema, components)
        const empty = json.type === 'object' && Object.keys((json.properties as Json | undefined) ?? {}).length === 0
        next.requestBody = { ...op.requestBody, content, ...(empty ? { required: false } : {}) }
      }
      // Answers.
      const auth = authOf(method.toUpperCase(), path)
      const codes = id ? allowedCodes(id, auth) : new Set<string>(COMMON_CODES)
      const byStatus = new Map<string, string[]>()
      for (const code of codes) {
        const status = String(statusOf.get(code) ?? '')
        if (!status) continue
        byStatus.set(status, [...(byStatus.get(status) ?? []), code])
      }
      const responses: Record<string, Response | { $ref: string }> = {}
      for (const [status, res] of Object.entries(op.responses ?? {}) as [string, Response][]) {
        const media = res.content?.['application/json']
        const schema = media?.schema
        const isProblem = Number(status) >= 400
        if (isProblem) continue // rebuilt below from the codes
        if (!schema || !res.content) {
          responses[status] = {
            ...res,
            description:
              res.description && res.description !== 'Default Response' ? res.description : (REASONS[status] ?? 'OK'),
          }
          continue
        }
        const content: Record<string, { schema?: Json; example?: unknown }> = {}
        for (const [type, m] of Object.entries(res.content)) {
          if (!m.schema) {
            content[type] = m
            continue
          }
          const isJson = type.includes('json')
          const isNull = m.schema.type === 'null'
          const named =
            isJson && !isNull
              ? nameAfter(m.schema, `${name}Response${status === '200' ? '' : status}`, components)
              : m.schema
          content[type] = { ...m, schema: named }
          if (isJson && !isNull) content[type]!.example = sample(named, components)
        }
        const resolved = resolve(content['application/json']?.schema, components)
        const what = typeof resolved.description === 'string' ? resolved.description : op.summary
        responses[status] = {
          ...res,
          description: `${REASONS[status] ?? 'OK'}${what ? `: ${what}` : ''}`,
          content,
        }
      }
      const declaredStatuses = Object.keys(op.responses ?? {}).filter((s) => Number(s) >= 400)
      for (const status of new Set([...declaredStatuses, ...byStatus.keys()])) {
        const list = (byStatus.get(status) ?? []).sort()
        if (list.length === 0) continue
        const response: Response = {
          description: problemDescription(status, list),
          content: {
            'application/problem+json': {
              schema: { allOf: [{ $ref: '#/components/schemas/Problem' }], properties: { code: { enum: list } } },
            },
          },
        }
        // The problems many routes share (bad input, sign-in, overload) are one named response each.
        responses[status] = list.some((c) => !SHARED.has(c)) ? response : sharedResponse(status, response)
      }
      if (conditional(method.toUpperCase(), path)) {
        next.parameters = [
          ...((op.parameters as unknown[] | undefined) ?? []),
          {
            in: 'header',
            name: 'if-none-match',
            required: false,
            schema: { type: 'string' },
            description: 'The ETag of the copy you hold: answered 304 with no body while it is current',
          },
        ]
        const ok = responses['200'] as Response | undefined
        if (ok)
          ok.headers = { ETag: { description: 'A strong validator of this exact body', schema: { type: 'string' } } }
        responses['304'] = { description: REASONS['304']! }
      }
      next.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)))
      paths[path][method] = next
    }
  }
  // Component schemas themselves may hold titled parts.
  for (const [n, s] of Object.entries(components)) {
    const inner = { ...s }
    delete inner.title
    const hoisted = hoist(inner, components)
    components[n] = { ...(hoisted as Json), ...(s.title ? { title: s.title } : {}) }
  }
  const sorted = Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)))
  return { ...doc, paths, components: { ...doc.components, schemas: sorted, responses: sharedResponses } }
}
