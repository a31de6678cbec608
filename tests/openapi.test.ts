/**
 * The OpenAPI document as a generator sees it: valid OpenAPI 3.1, an operationId on every
 * route, named schemas for every body and JSON answer, an example on each, problem+json
 * errors listing their codes; accepted by openapi-typescript without a warning; and the
 * SDK's committed copy and types are not stale.
 */
import t from 'tap'
import { readFile } from 'node:fs/promises'
import { Validator } from '@seriousme/openapi-schema-validator'
import { typesOf } from '../clients/typescript/scripts/document.js'
import { ROUTE_PROBLEMS } from '../src/http/route-problems.js'
import { errorCatalogue } from '../src/shared/index.js'
import { build, call, type Json } from './helpers/app.js'

const METHODS = ['get', 'put', 'post', 'patch', 'delete']

/** What a generator needs of each operation; an empty list when the document has it all. */
function documentIssues(doc: Json): string[] {
  const issues: string[] = []
  const ids = new Set<string>()
  const schemas = (doc.components?.schemas ?? {}) as Json
  const named = (schema: Json | undefined) =>
    typeof schema?.$ref === 'string' && schema.$ref.replace('#/components/schemas/', '') in schemas
  for (const [path, ops] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(ops as Json)) {
      if (!METHODS.includes(method)) continue
      const where = `${method.toUpperCase()} ${path}`
      if (typeof op.operationId !== 'string') issues.push(`${where}: no operationId`)
      else if (ids.has(op.operationId)) issues.push(`${where}: operationId ${op.operationId} used twice`)
      else ids.add(op.operationId)
      if (!op.summary) issues.push(`${where}: no summary`)
      const body = op.requestBody?.content?.['application/json']
      if (body && !named(body.schema)) issues.push(`${where}: request body is not a named schema`)
      if (body && body.example === undefined) issues.push(`${where}: request body has no example`)
      for (const [status, res] of Object.entries((op.responses ?? {}) as Json)) {
        if (typeof res.$ref === 'string') continue
        if (!res.description || res.description === 'Default Response')
          issues.push(`${where} ${status}: no description`)
        const json = res.content?.['application/json']
        if (Number(status) >= 400) {
          if (json) issues.push(`${where} ${status}: a problem declared as application/json`)
          const codes = res.content?.['application/problem+json']?.schema?.properties?.code?.enum
          if (!Array.isArray(codes) || codes.length === 0) issues.push(`${where} ${status}: no problem codes`)
          continue
        }
        if (!json || json.schema?.type === 'null') continue
        if (!named(json.schema)) issues.push(`${where} ${status}: answer is not a named schema`)
        if (json.example === undefined) issues.push(`${where} ${status}: answer has no example`)
      }
    }
  }
  return issues
}

void t.test('the document is valid OpenAPI 3.1 and complete for generators', async (t) => {
  const app = await build(t)
  const doc = (await call(app, 'GET', '/docs/json')).json
  t.equal(doc.openapi, '3.1.0')
  const result = await new Validator().validate(structuredClone(doc))
  t.ok(result.valid, `valid OpenAPI 3.1: ${String(JSON.stringify(result.errors)).slice(0, 2000)}`)
  t.same(documentIssues(doc), [], 'every operation has an id, a summary, named examples and problem codes')

  // The check can fail: an operation without an id, an inline answer, a problem as JSON.
  const broken = structuredClone(doc)
  delete broken.paths['/v1/listings/{id}'].get.operationId
  broken.paths['/v1/me'].get.responses['200'].content['application/json'].schema = { type: 'object' }
  broken.paths['/v1/cart'].get.responses['401'] = {
    description: 'x',
    content: { 'application/json': { schema: { type: 'object' } } },
  }
  t.same(
    documentIssues(broken).sort(),
    [
      'GET /v1/cart 401: a problem declared as application/json',
      'GET /v1/cart 401: no problem codes',
      'GET /v1/listings/{id}: no operationId',
      'GET /v1/me 200: answer is not a named schema',
    ],
    'the check notices each kind of gap',
  )

  // Resources are named, not "V1ListingsGet200Response".
  for (const name of ['Listing', 'ListingCard', 'Order', 'Cart', 'Me', 'PublicProfile', 'Message', 'Problem'])
    t.ok(doc.components.schemas[name], `${name} is a named component`)
  const listing = doc.paths['/v1/listings/{id}'].get.responses['200'].content['application/json']
  t.equal(listing.schema.$ref, '#/components/schemas/Listing')
  t.equal(listing.example.currency, 'NGN', 'with an example that reads like a listing')

  // The public reads say they answer 304 to If-None-Match.
  const detail = doc.paths['/v1/listings/{id}'].get
  t.ok(detail.responses['304'], 'GET /v1/listings/{id} documents 304')
  t.ok(
    detail.parameters.some((p: Json) => p.in === 'header' && p.name === 'if-none-match'),
    'and its If-None-Match header',
  )
  t.ok(detail.responses['200'].headers.ETag, 'and the ETag it answers')

  // A route's own problem codes are listed with their status.
  const checkout = doc.paths['/v1/checkout'].post.responses
  t.match(checkout['409'].content['application/problem+json'].schema.properties.code.enum, ['CART_EMPTY'])
  t.match(checkout['409'].description, /CART_EMPTY/)
})

void t.test('the table of route problem codes names real operations and real codes', async (t) => {
  const app = await build(t)
  const doc = (await call(app, 'GET', '/docs/json')).json
  const ids = new Set<string>()
  for (const ops of Object.values(doc.paths as Json))
    for (const op of Object.values(ops as Json)) ids.add(op.operationId)
  const known = new Set(errorCatalogue().map((e) => e.code))
  for (const [id, codes] of Object.entries(ROUTE_PROBLEMS)) {
    t.ok(ids.has(id), `${id} is an operation`)
    for (const code of codes) t.ok(known.has(code), `${id}: ${code} is in the error catalogue`)
  }
})

void t.test(
  'openapi-typescript takes the document without a warning; the SDK copy and types are current',
  async (t) => {
    const app = await build(t)
    const doc = (await call(app, 'GET', '/docs/json')).json
    const warnings: string[] = []
    const original = { warn: console.warn, error: console.error }
    console.warn = (...args: unknown[]) => void warnings.push(args.join(' '))
    console.error = (...args: unknown[]) => void warnings.push(args.join(' '))
    let types: string
    try {
      types = await typesOf(doc, { silent: false })
    } finally {
      Object.assign(console, original)
    }
    t.same(warnings, [], 'no warnings')
    const committed = JSON.parse(await readFile('clients/typescript/openapi.json', 'utf8')) as Json
    t.same(committed, doc, 'clients/typescript/openapi.json is the served document (else: npm run sdk:generate)')
    t.equal(
      types,
      await readFile('clients/typescript/src/schema.d.ts', 'utf8'),
      'clients/typescript/src/schema.d.ts is current (else: npm run sdk:generate)',
    )
  },
)
