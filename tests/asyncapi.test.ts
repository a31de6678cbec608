/**
 * The AsyncAPI document of the live events (GET /docs/asyncapi.json): valid for the AsyncAPI
 * parser with no diagnostics at all, complete (every event the server emits or handles), and
 * the very schemas the gateway validates with; realtime/protocol.ts stays importable by a
 * client (it and what it imports are pure schema modules).
 */
import { readFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { Parser } from '@asyncapi/parser'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import t from 'tap'
import { ASYNCAPI_VERSION, buildAsyncApiDocument } from '../realtime/asyncapi.js'
import { createChatHandlers } from '../realtime/handlers.js'
import {
  CLIENT_EVENT_NAMES,
  ClientEvents,
  SERVER_EVENT_NAMES,
  ServerEvents,
  type ServerEventName,
} from '../realtime/protocol.js'
import type { ChatService } from '../src/chat/index.js'
import { aConversation } from './factories/chat.js'
import { call, type Json } from './helpers/app.js'
import { connect, request, startNodes } from './helpers/nodes.js'

type ParserInput = Parameters<Parser['validate']>[0]
const root = resolve(new URL('..', import.meta.url).pathname)

// ---------------------------------------------------------------------------------------------
// Import purity: a small regex parser of import/export-from statements (type-only ones too: a
// client compiling the protocol needs every file they name).

const IMPORT = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+\s+from\s+)?['"]([^'"]+)['"]/g
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g
const ALLOWED_PACKAGES = new Set(['@sinclair/typebox'])

/** Every module specifier a file names. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
  return [...text.matchAll(IMPORT), ...text.matchAll(DYNAMIC)].map((m) => m[1]!)
}

/** A pure schema module by name: `x.schemas.ts` or a folder's `schemas.ts`. */
const isSchemaModule = (file: string) => /(^|[/.])schemas\.ts$/.test(file)

/**
 * Walks the import graph from `roots`: returns every rule broken (a package other than
 * TypeBox, or a module that is not a schema module), as `importer → specifier: why`.
 */
function impureImports(roots: string[]): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  const queue = roots.map((r) => resolve(root, r))
  while (queue.length > 0) {
    const file = queue.shift()!
    if (seen.has(file)) continue
    seen.add(file)
    for (const spec of specifiers(file)) {
      const from = relative(root, file)
      if (!spec.startsWith('.')) {
        if (!ALLOWED_PACKAGES.has(spec)) problems.push(`${from} → ${spec}: only @sinclair/typebox may be imported`)
        continue
      }
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
      if (!roots.some((r) => resolve(root, r) === target) && !isSchemaModule(target)) {
        problems.push(`${from} → ${spec}: not a schema module`)
        continue
      }
      queue.push(target)
    }
  }
  return problems
}

void t.test(
  'realtime/protocol.ts and the document generator import only TypeBox and pure schema modules',
  async (t) => {
    t.same(impureImports(['realtime/protocol.ts', 'realtime/asyncapi.ts']), [], 'nothing of the server, transitively')
    // The walker does catch the server: the gateway's handlers (services, Fastify's error mapping) are not pure,
    t.ok(
      impureImports(['realtime/handlers.ts']).some((p) => p.includes('../src/http/index.js')),
      'a server import is reported',
    )
    // nor is a schema module that reaches into its feature's index (as src/wants' schemas do),
    t.ok(
      impureImports(['src/wants/wants.schemas.ts']).some((p) => p.includes('not a schema module')),
      'a transitive impurity is reported',
    )
    // and a type-only import of a server module counts as well.
    t.same(specifiers(resolve(root, 'realtime/relay.ts')).includes('../src/shared/index.js'), true, 'type imports seen')
  },
)

// ---------------------------------------------------------------------------------------------

/** A named component schema of the document (`#/components/schemas/<name>` refs followed). */
function component(doc: Json, ref: Json): Json {
  const path = String(ref.$ref).replace('#/components/schemas/', '')
  return doc.components.schemas[path] as Json
}

void t.test('GET /docs/asyncapi.json: the AsyncAPI parser accepts it with no diagnostics at all', async (t) => {
  const {
    nodes: [node],
  } = await startNodes(t, 1)
  const res = await call(node!.app, 'GET', '/docs/asyncapi.json')
  t.equal(res.statusCode, 200)
  const doc = JSON.parse(res.body) as Json
  t.equal(doc.asyncapi, '3.1.0', 'the latest AsyncAPI the parser knows (older ones draw a warning)')
  t.equal(ASYNCAPI_VERSION, doc.asyncapi)
  t.same(doc, buildAsyncApiDocument({ publicUrl: node!.app.config.publicUrl }), 'served whole, nothing dropped')

  const parser = new Parser()
  const diagnostics = await parser.validate(doc as ParserInput)
  t.same(
    diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.join('.')}: ${d.message}`),
    [],
    'no error, warning, info or hint',
  )
  // The same document with a broken payload schema is not accepted: the check has teeth.
  const broken = structuredClone(doc)
  broken.components.schemas.MessageSendPayload = { type: 'nope' }
  t.ok((await parser.validate(broken as ParserInput)).length > 0, 'a broken document draws diagnostics')

  const { document } = await parser.parse(doc as ParserInput)
  t.ok(document, 'parsed')
  for (const message of document!.allMessages().all())
    t.ok(message.examples().length > 0, `${message.id()} has an example`)
  t.same(
    document!
      .allServers()
      .all()
      .map((s) => s.pathname())
      .sort(),
    ['/socket.io/', '/v1/stream'],
    'the Socket.IO endpoint and the feed',
  )
  t.match(doc.info.description, /lastSeq/, 'resync described')
  t.equal(doc.servers.socketio.host, new URL(node!.app.config.publicUrl).host, 'the servers are at PUBLIC_URL')

  // Its route is documented in the OpenAPI document, with its operationId.
  const openapi = (await call(node!.app, 'GET', '/docs/json')).json
  t.equal(openapi.paths['/docs/asyncapi.json']?.get?.operationId, 'getAsyncApiDocument')
})

void t.test('every event the server emits or handles is in the protocol and in the document', async (t) => {
  const doc = buildAsyncApiDocument({ publicUrl: 'https://api.oja.test' }) as Json
  const socketMessages = Object.values(doc.channels.socketio.messages as Json) as Json[]
  const streamMessages = Object.values(doc.channels.stream.messages as Json) as Json[]
  const operations = Object.values(doc.operations as Json) as Json[]
  const opOf = (action: string, messageKey: string, channel: string) =>
    operations.find(
      (o) =>
        o.action === action && o.messages.some((m: Json) => m.$ref === `#/channels/${channel}/messages/${messageKey}`),
    )
  const keyOf = (messages: Json, name: string, suffix = '') =>
    Object.keys(messages).find((k) => messages[k].name === name && k.endsWith(suffix))

  for (const event of SERVER_EVENT_NAMES) {
    const key = keyOf(doc.channels.socketio.messages, event)
    t.ok(key && opOf('send', key, 'socketio'), `${event}: a Socket.IO message the server sends`)
    if (ServerEvents[event].feed)
      t.ok(
        streamMessages.some((m) => m.name === event),
        `${event}: a /v1/stream frame`,
      )
  }
  for (const event of CLIENT_EVENT_NAMES) {
    const key = keyOf(doc.channels.socketio.messages, event, 'Request')
    const op = key ? opOf('receive', key, 'socketio') : undefined
    t.ok(op, `${event}: a Socket.IO message the server receives`)
    t.ok(op?.reply?.messages?.length, `${event}: with its ack as the reply`)
  }
  t.ok(socketMessages.some((m) => m.name === 'connect') && socketMessages.some((m) => m.name === 'connect_error'))

  // What the source emits and handles (event names written in src/ and realtime/) is all in the protocol.
  const files = [
    'src/chat/chat.service.ts',
    'src/chat/offers.service.ts',
    'src/orders/order-lifecycle.ts',
    'src/wants/wants.service.ts',
    'src/events/events.service.ts',
    'src/push/unread.ts',
    'src/disputes/disputes.service.ts',
    'src/trust/reviews.service.ts',
    'src/listings/reports.service.ts',
    'realtime/index.ts',
    'realtime/gateway.ts',
  ]
  const emitted = new Set<string>()
  const handled = new Set<string>()
  for (const file of files) {
    const text = readFileSync(resolve(root, file), 'utf8')
    for (const re of [
      /\bevent:\s*'([\w:]+)'/g,
      /'([\w:]+)'::text as event/g,
      /toAdmins\(\s*\w+,\s*'([\w:]+)'/g,
      /ephemeral\([^,]+,\s*'([\w:]+)'/g,
      /socket\.emit\(\s*'([\w:]+)'/g,
    ])
      for (const m of text.matchAll(re)) emitted.add(m[1]!)
    // The events the gateway handles itself, but for the socket's reserved `disconnect`: its
    // listeners (`socket.on('…')`) and the names its shared dispatcher tests (`event === '…'`).
    if (file === 'realtime/gateway.ts')
      for (const re of [/socket\.on\(\s*'([\w:]+)'/g, /\bevent === '([\w:]+)'/g])
        for (const m of text.matchAll(re)) if (m[1] !== 'disconnect') handled.add(m[1]!)
  }
  const handlers = createChatHandlers({ chat: {} as ChatService, typing: () => {} })
  for (const event of Object.keys(handlers)) handled.add(event)
  t.ok(emitted.size >= 10 && handled.has('auth:refresh'), `found the emitters (${[...emitted].join(', ')})`)
  t.same(
    [...emitted].filter((e) => !SERVER_EVENT_NAMES.includes(e as ServerEventName)),
    [],
    'every emitted event is a server event of the protocol',
  )
  t.same(
    [...handled].filter((e) => !(CLIENT_EVENT_NAMES as string[]).includes(e)).sort(),
    [],
    'every handled event is a client event of the protocol',
  )
})

void t.test('the document’s message:send payload is the schema the gateway validates with', async (t) => {
  const doc = buildAsyncApiDocument({ publicUrl: 'http://127.0.0.1:3000' }) as Json
  const handlers = createChatHandlers({ chat: {} as ChatService, typing: () => {} })
  for (const event of Object.keys(handlers) as (keyof typeof handlers)[])
    t.equal(
      handlers[event].schema,
      ClientEvents[event].payload,
      `${event}: the handler validates with the protocol’s schema`,
    )

  // A real server and a real client: what the document's schema refuses, the gateway refuses
  // with VALIDATION_FAILED, and what it accepts goes through.
  const {
    nodes: [node],
  } = await startNodes(t, 1)
  const { buyer, conversation } = await aConversation(node!.app)
  const client = await connect(t, node!, { token: buyer.accessToken })
  const request_ = doc.channels.socketio.messages.messageSendRequest as Json
  t.equal(request_.name, 'message:send')
  const schema = component(doc, request_.payload)
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats.default(ajv)
  const documented = ajv.compile(schema)

  const good = { conversationId: conversation.id, body: 'Still for sale?', clientId: 'doc-1' }
  const cases: [string, unknown][] = [
    ['a good payload', good],
    ['another good one', { ...good, body: ' x ', clientId: 'doc_2.b:c-d' }],
    ['no clientId', { conversationId: conversation.id, body: 'hi' }],
    ['a blank body', { ...good, body: '   ' }],
    ['an empty body', { ...good, body: '' }],
    ['a body too long', { ...good, body: 'x'.repeat(4001) }],
    ['a clientId with a space', { ...good, clientId: 'a b' }],
    ['a clientId too long', { ...good, clientId: 'c'.repeat(65) }],
    ['not a uuid', { ...good, conversationId: 'abc' }],
    ['an unknown field', { ...good, extra: 1 }],
    ['a number for a body', { ...good, body: 42 }],
    ['no payload object', 'hello'],
  ]
  let refusedCount = 0
  for (const [name, payload] of cases) {
    const accepted = documented(payload)
    const ack = await request(client.socket, 'message:send', payload)
    if (accepted) t.equal(ack.ok, true, `${name}: the document accepts it, and so does the server`)
    else {
      refusedCount++
      t.match(ack, { ok: false, code: 'VALIDATION_FAILED' }, `${name}: the document refuses it, and so does the server`)
    }
  }
  t.equal(refusedCount, cases.length - 2, 'every bad payload was refused by the document')

  // The example payloads of the document's messages are valid for their own schemas.
  const withComponents = (s: Json) => ({ ...s, components: doc.components })
  for (const [key, message] of Object.entries({
    ...(doc.channels.socketio.messages as Json),
    ...(doc.channels.stream.messages as Json),
  }) as [string, Json][]) {
    const check = ajv.compile(withComponents(message.payload))
    for (const example of message.examples as Json[])
      t.ok(check(example.payload), `${key} example ${example.name} fits: ${ajv.errorsText(check.errors)}`)
  }
})
