/**
 * The AsyncAPI 3 document of the live events, generated from realtime/protocol.ts: the very
 * schemas the gateway validates with and the emitters' data are typed by. Pure (it imports
 * only the protocol and TypeBox's types), so src/http can serve it without the server.
 */
import type { TSchema } from '@sinclair/typebox'
import {
  AckError,
  ClientEvents,
  ConnectErrorData,
  FeedClose,
  FeedFrame,
  FeedQuery,
  HandshakeAuth,
  LastSeq,
  ProtocolReferences,
  Seq,
  ServerEvents,
  type ClientEventName,
  type ServerEventName,
} from './protocol.js'

/** The AsyncAPI version written; @asyncapi/parser 3.x warns on anything older than its latest. */
export const ASYNCAPI_VERSION = '3.1.0'

type Json = Record<string, unknown>

const ref = (path: string): Json => ({ $ref: path })
const schemaRef = (name: string) => ref(`#/components/schemas/${name}`)
const SOCKET = '#/channels/socketio'
const STREAM = '#/channels/stream'

/** `message:new` → `MessageNew`; `admin:flag` → `AdminFlag`. */
const pascal = (event: string) =>
  event
    .split(/[:_-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
/** `message:new` → `messageNew`. */
const camel = (event: string) => pascal(event).charAt(0).toLowerCase() + pascal(event).slice(1)

/**
 * A TypeBox schema as an AsyncAPI (JSON Schema draft 7) schema: TypeBox's symbols dropped,
 * `$id`s dropped (the component's name says it), `$ref: 'Offer'` pointed at its component,
 * and OpenAPI's object `discriminator` dropped (AsyncAPI's is a bare property name meant for
 * `allOf` inheritance; the variants' `type` constants already tell them apart).
 */
function toAsyncApiSchema(schema: TSchema): Json {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk)
    if (node === null || typeof node !== 'object') return node
    const out: Json = {}
    for (const [key, value] of Object.entries(node as Json)) {
      if (key === '$id') continue
      if (key === 'discriminator' && typeof value === 'object') continue
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) out.$ref = schemaRef(value).$ref
      else out[key] = walk(value)
    }
    return out
  }
  return walk(JSON.parse(JSON.stringify(schema))) as Json
}

/** The component name of a server event's data: its `$id` if it has one, else `<Event>Data`. */
const dataName = (event: ServerEventName) => ServerEvents[event].data.$id ?? `${pascal(event)}Data`

const EXAMPLE_SEQ = 42

const RESYNC = `
## Delivery and resync

- Every **stored** event (\`message:new\`, \`message:read\`, \`offer:updated\`, \`notification:new\`,
  \`order:status\`, \`unread:updated\`) carries the user's \`seq\`: strictly increasing per user, in
  the order the events are delivered, on every device and both transports. An event exists if
  and only if its change committed.
- To resume, pass the last \`seq\` you have as \`lastSeq\`: in the Socket.IO handshake
  (\`io(url, { auth: { token, lastSeq } })\`; pass \`auth\` as a function so every reconnect sends
  the latest) or in the feed's query (\`/v1/stream?token=…&lastSeq=…\`). The missed events are
  sent first, in order, then the live ones; none twice. Without \`lastSeq\` only new events come.
  A \`lastSeq\` ahead of the server is refused (\`LAST_SEQ_AHEAD\`, 409): reload from
  \`GET /v1/me/events?after=0\`. The same events can be read over REST with
  \`GET /v1/me/events?after=<seq>\`.
- A gap in \`seq\` never happens on a live connection (the server fills it from the database);
  a client that sees one anyway resyncs with \`GET /v1/me/events?after=<last seq>\`.
- **Not stored**, so not in the resync and without \`seq\`: \`typing\`, the admin events
  (\`admin:flag\`, \`admin:report\`, \`admin:dispute\`: the console reloads its queues after a
  reconnect) and \`session:ended\`.
`

const HANDSHAKE = `
The access token (\`POST /v1/auth/login\`, \`/v1/auth/refresh\`) authenticates the connection
with the same rules as REST (signature, expiry, live session, not banned). A connection lives as
long as its token: at expiry the transport is closed and the client reconnects with a fresh
token and its \`lastSeq\` (nothing is lost), unless it sent \`auth:refresh\` first. A user has at
most LIVE_MAX_CONNECTIONS_PER_USER connections per node (\`TOO_MANY_CONNECTIONS\`, 429).
`

/** Builds the document; `publicUrl` (the API's origin, e.g. `https://api.oja.ng`) names the servers. */
export function buildAsyncApiDocument(opts: { publicUrl: string; version?: string }): Json {
  const origin = new URL(opts.publicUrl)
  const secure = origin.protocol === 'https:'
  const serverBase = { host: origin.host, protocol: secure ? 'wss' : 'ws' }

  const schemas: Json = {}
  for (const s of ProtocolReferences) schemas[s.$id!] = toAsyncApiSchema(s)
  schemas.Seq = toAsyncApiSchema(Seq)
  schemas.LastSeq = toAsyncApiSchema(LastSeq)
  schemas.HandshakeAuth = toAsyncApiSchema(HandshakeAuth)
  schemas.ConnectErrorData = toAsyncApiSchema(ConnectErrorData)
  schemas.AckError = toAsyncApiSchema(AckError)
  schemas.FeedFrame = toAsyncApiSchema(FeedFrame)
  schemas.FeedQuery = toAsyncApiSchema(FeedQuery)

  const socketMessages: Json = {}
  const streamMessages: Json = {}
  const operations: Json = {}

  socketMessages.handshake = {
    name: 'connect',
    title: 'Handshake',
    summary: 'The Socket.IO CONNECT packet: its `auth` carries the access token and, to resume, `lastSeq`',
    contentType: 'application/json',
    payload: schemaRef('HandshakeAuth'),
    examples: [{ name: 'resume', payload: { token: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', lastSeq: EXAMPLE_SEQ } }],
  }
  socketMessages.connectError = {
    name: 'connect_error',
    title: 'Handshake refused',
    summary: 'The handshake was refused: `err.message` is the detail, `err.data` the code and status REST would answer',
    contentType: 'application/json',
    payload: schemaRef('ConnectErrorData'),
    examples: [{ name: 'expired', payload: { code: 'UNAUTHENTICATED', status: 401 } }],
  }
  operations.receiveHandshake = {
    action: 'receive',
    channel: ref(SOCKET),
    title: 'Handshake',
    summary: 'A client connects (Socket.IO CONNECT with `auth`); a refusal answers `connect_error`',
    description: HANDSHAKE,
    messages: [ref(`${SOCKET}/messages/handshake`)],
    reply: { channel: ref(SOCKET), messages: [ref(`${SOCKET}/messages/connectError`)] },
  }

  for (const event of Object.keys(ServerEvents) as ServerEventName[]) {
    const spec = ServerEvents[event]
    const name = dataName(event)
    if (!schemas[name]) schemas[name] = toAsyncApiSchema(spec.data)
    const key = camel(event)
    const payloadName = `${pascal(event)}Event`
    const example: unknown = spec.example
    let wire: unknown
    if (spec.framing === 'stored') {
      schemas[payloadName] = {
        type: 'object',
        required: ['seq', 'data'],
        properties: { seq: schemaRef('Seq'), data: schemaRef(name) },
        additionalProperties: false,
      }
      wire = { seq: EXAMPLE_SEQ, data: example }
    } else if (spec.framing === 'unstored') {
      schemas[payloadName] = {
        type: 'object',
        required: ['data'],
        properties: { data: schemaRef(name) },
        additionalProperties: false,
        description: 'Not stored: no `seq`, not in the resync',
      }
      wire = { data: example }
    } else {
      schemas[payloadName] = schemaRef(name)
      wire = example
    }
    const description = [
      spec.description,
      spec.framing === 'stored'
        ? 'Stored: carries the user’s `seq`, replayed on resync.'
        : 'Not stored: not replayed on resync.',
    ]
      .filter(Boolean)
      .join(' ')
    socketMessages[key] = {
      name: event,
      title: event,
      summary: spec.summary,
      description,
      contentType: 'application/json',
      payload: schemaRef(payloadName),
      examples: [{ name: key, payload: wire }],
    }
    operations[`send${pascal(event)}`] = {
      action: 'send',
      channel: ref(SOCKET),
      summary: spec.summary,
      messages: [ref(`${SOCKET}/messages/${key}`)],
    }
    if (!spec.feed) continue
    const frameName = `${pascal(event)}Frame`
    schemas[frameName] = {
      type: 'object',
      required: ['event', 'seq', 'data'],
      properties: {
        event: { type: 'string', const: event },
        seq: spec.framing === 'stored' ? schemaRef('Seq') : { type: 'null' },
        data: schemaRef(name),
      },
      additionalProperties: false,
    }
    streamMessages[`${key}Frame`] = {
      name: event,
      title: `${event} frame`,
      summary: spec.summary,
      description,
      contentType: 'application/json',
      payload: schemaRef(frameName),
      examples: [
        {
          name: `${key}Frame`,
          payload: { event, seq: spec.framing === 'stored' ? EXAMPLE_SEQ : null, data: example },
        },
      ],
    }
  }
  operations.sendStreamFrames = {
    action: 'send',
    channel: ref(STREAM),
    summary: 'Every server event except `session:ended`, as JSON text frames `{"event","seq","data"}`',
    messages: Object.keys(streamMessages).map((key) => ref(`${STREAM}/messages/${key}`)),
  }

  for (const event of Object.keys(ClientEvents) as ClientEventName[]) {
    const spec = ClientEvents[event]
    const base = pascal(event)
    schemas[`${base}Payload`] = toAsyncApiSchema(spec.payload)
    // A reply that is a named schema of its own (`message:send` answers the Message) points at it.
    const reply = spec.reply.$id ? schemaRef(spec.reply.$id) : schemaRef(`${base}Reply`)
    if (!spec.reply.$id) schemas[`${base}Reply`] = toAsyncApiSchema(spec.reply)
    schemas[`${base}Ack`] = {
      oneOf: [
        {
          type: 'object',
          required: ['ok', 'data'],
          properties: { ok: { type: 'boolean', const: true }, data: reply },
          additionalProperties: false,
        },
        schemaRef('AckError'),
      ],
    }
    const key = `${camel(event)}Request`
    socketMessages[key] = {
      name: event,
      title: event,
      summary: spec.summary,
      contentType: 'application/json',
      payload: schemaRef(`${base}Payload`),
      examples: [{ name: key, payload: spec.example.payload }],
    }
    socketMessages[`${camel(event)}Ack`] = {
      name: `${event} ack`,
      title: `${event} ack`,
      summary: `The acknowledgement of \`${event}\`: \`{ok:true,data}\`, or \`{ok:false,code,message}\` with the code and message REST would answer`,
      contentType: 'application/json',
      payload: schemaRef(`${base}Ack`),
      examples: [
        { name: 'accepted', payload: { ok: true, data: spec.example.reply } },
        {
          name: 'refused',
          payload: {
            ok: false,
            code: 'VALIDATION_FAILED',
            message: "/payload/conversationId: Expected string to match 'uuid' format",
            errors: [{ path: '/payload/conversationId', message: "Expected string to match 'uuid' format" }],
          },
        },
      ],
    }
    operations[`receive${base}`] = {
      action: 'receive',
      channel: ref(SOCKET),
      summary: spec.summary,
      description: 'Emit with an acknowledgement callback: `socket.emit(event, payload, (ack) => …)`.',
      messages: [ref(`${SOCKET}/messages/${key}`)],
      reply: { channel: ref(SOCKET), messages: [ref(`${SOCKET}/messages/${camel(event)}Ack`)] },
    }
  }

  return {
    asyncapi: ASYNCAPI_VERSION,
    id: 'urn:oja:live-events',
    info: {
      title: 'Oja live events',
      version: opts.version ?? '1.0.0',
      description:
        'The live events of the Oja API, over Socket.IO (both directions, with acknowledgements) and the plain ' +
        'WebSocket feed `/v1/stream` (server → client only). The REST API is described at `/docs/json`.\n' +
        RESYNC,
    },
    defaultContentType: 'application/json',
    servers: {
      socketio: {
        ...serverBase,
        pathname: '/socket.io/',
        title: 'Socket.IO',
        summary: 'Socket.IO 4 (Engine.IO protocol 4): WebSocket, or HTTP long-polling upgraded to it',
        description:
          'Connect with a Socket.IO 4 client: `io(origin, { path: "/socket.io/", auth: { token, lastSeq } })`. ' +
          'The server emits every server event; the client emits requests with an acknowledgement callback.',
        security: [ref('#/components/securitySchemes/handshakeToken')],
      },
      stream: {
        ...serverBase,
        pathname: '/v1/stream',
        title: 'Plain WebSocket feed',
        summary: 'Server → client only: one JSON text frame `{"event","seq","data"}` per event',
        description:
          `A refused handshake is an ordinary problem+json answer (401, 403, 409, 429) instead of the upgrade. Close codes: ` +
          `${FeedClose.sessionEnded} session ended (do not reconnect), ${FeedClose.resync} resync (reconnect with lastSeq), ` +
          `${FeedClose.tokenExpired} access token expired (refresh it, reconnect with lastSeq), ${FeedClose.shutdown} server restarting. ` +
          'Anything the client sends is ignored; the server pings every 30 s.',
        security: [ref('#/components/securitySchemes/queryToken'), ref('#/components/securitySchemes/bearerHeader')],
      },
    },
    channels: {
      socketio: {
        address: '/',
        title: 'Socket.IO main namespace',
        description:
          'Every event of a user reaches every connection of that user, on every node. Server events: stored ones ' +
          'as `{seq, data}`, the others as `{data}` (`session:ended` as its bare data).',
        servers: [ref('#/servers/socketio')],
        messages: socketMessages,
      },
      stream: {
        address: '/v1/stream',
        title: 'Plain WebSocket feed',
        description: 'The same server events as Socket.IO (but `session:ended`, said with close code 4001).',
        servers: [ref('#/servers/stream')],
        messages: streamMessages,
        bindings: { ws: { method: 'GET', query: schemaRef('FeedQuery'), bindingVersion: '0.1.0' } },
      },
    },
    operations,
    components: {
      schemas,
      securitySchemes: {
        handshakeToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'The access token, sent in the Socket.IO handshake as `auth.token` (the CONNECT packet), not as a header ' +
            'or query: `io(origin, { auth: { token, lastSeq } })`. A refusal raises `connect_error` with ' +
            '`err.data = {code, status}`.',
        },
        queryToken: {
          type: 'httpApiKey',
          in: 'query',
          name: 'token',
          description: 'The access token as `?token=` (browsers cannot set headers on a WebSocket).',
        },
        bearerHeader: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The access token as `Authorization: Bearer <token>`.',
        },
      },
    },
  }
}
