import { FormatRegistry, type TSchema, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { ChatService, ActorCtx } from '../src/chat/index.js'
import { toProblem } from '../src/http/index.js'
import { Errors } from '../src/shared/index.js'
import {
  ClientEvents,
  type AckError,
  type ClientEventName,
  type ClientEventReply,
  type ServerEventData,
} from './protocol.js'

// The REST side validates formats with Ajv; TypeBox's compiler needs them registered once.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
if (!FormatRegistry.Has('uuid')) FormatRegistry.Set('uuid', (v) => UUID.test(v))

/** A socket request handler: validated payload in, data out (the ack's `data`). */
export type SocketHandler<S extends TSchema, R> = {
  schema: S
  run: (ctx: ActorCtx, payload: Static<S>) => Promise<R>
  /**
   * The handler checks the session is still live itself, in the transaction that does the
   * work (a send's group commit checks all its senders' sessions in one statement); the
   * gateway then skips its own check (a round trip per request).
   */
  checksSession?: boolean
}

/** Any handler, as the gateway iterates them. */
export type AnySocketHandler = {
  schema: TSchema
  run: (ctx: ActorCtx, payload: never) => Promise<unknown>
  checksSession?: boolean
}

const handler = <S extends TSchema, R>(
  schema: S,
  run: (ctx: ActorCtx, payload: Static<S>) => Promise<R>,
  opts: { checksSession?: boolean } = {},
): SocketHandler<S, R> => ({ schema, run, ...opts })

/**
 * The chat's socket handlers, built from the same services (and schemas) as its REST
 * routes, so both transports share every rule: participants, blocks, limits, clientId.
 * (`auth:refresh` is the connection's own business: the gateway answers it.)
 */
export function createChatHandlers(deps: {
  chat: ChatService
  typing: (userIds: string[], data: ServerEventData<'typing'>) => void
}) {
  const { chat } = deps
  return {
    'message:send': handler(
      ClientEvents['message:send'].payload,
      async (ctx, p): Promise<ClientEventReply<'message:send'>> =>
        (await chat.send(ctx, p.conversationId, { body: p.body, clientId: p.clientId })).message,
      { checksSession: true },
    ),
    'conversation:read': handler(
      ClientEvents['conversation:read'].payload,
      async (ctx, p): Promise<ClientEventReply<'conversation:read'>> =>
        chat.markRead(ctx, p.conversationId, p.upToMessageId),
    ),
    typing: handler(ClientEvents.typing.payload, async (ctx, p): Promise<ClientEventReply<'typing'>> => {
      const peer = await chat.typingPeer(ctx, p.conversationId)
      deps.typing([peer], { conversationId: p.conversationId, userId: ctx.actor.id, isTyping: p.isTyping })
      return { delivered: true }
    }),
  } satisfies {
    [E in Exclude<ClientEventName, 'auth:refresh'>]: SocketHandler<
      (typeof ClientEvents)[E]['payload'],
      ClientEventReply<E>
    >
  }
}

export type ChatHandlers = ReturnType<typeof createChatHandlers>

const compiled = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>()

/** Checks a payload against a handler's schema; throws the REST-shaped VALIDATION_FAILED. */
export function validate<S extends TSchema>(schema: S, payload: unknown): Static<S> {
  let check = compiled.get(schema)
  if (!check) compiled.set(schema, (check = TypeCompiler.Compile(schema)))
  if (check.Check(payload)) return payload as Static<S>
  const errors = [...check.Errors(payload)].slice(0, 10).map((e) => ({ path: `/payload${e.path}`, message: e.message }))
  throw Errors.validation(errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors)
}

/** An error as an ack, with the same code and message the REST API would give. */
export function ackError(err: unknown): { ack: AckError; internal: boolean } {
  const { problem, headers, internal } = toProblem(err)
  const retryAfter = headers['retry-after'] ? Number(headers['retry-after']) : undefined
  return {
    ack: {
      ok: false,
      code: problem.code,
      message: problem.detail,
      ...(problem.errors ? { errors: problem.errors } : {}),
      ...(retryAfter ? { retryAfter } : {}),
    },
    internal,
  }
}
