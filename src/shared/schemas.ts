import { Type, type TSchema, type TObject, type TProperties } from '@sinclair/typebox'

/** RFC 9457 problem details, as every error answer carries them. */
export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine code, e.g. VALIDATION_FAILED' }),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true },
)

export const ProblemRef = Type.Ref('Problem')

/** A strict object: unknown fields are refused. */
export function StrictObject<T extends TProperties>(
  properties: T,
  options: Parameters<typeof Type.Object>[1] = {},
): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options })
}

export const Id = Type.String({ format: 'uuid', description: 'Opaque id' })
export const IdParams = StrictObject({ id: Id })
export const Timestamp = Type.String({ format: 'date-time' })
// Null first: with Ajv's type coercion, a null tried against the other branch first would be
// coerced (null → "" or 0) instead of kept.
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema])

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
}

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) })
}

/** An empty body for POST actions: absent, or `{}`. */
export const EmptyBody = Type.Optional(StrictObject({}))

export const Money = Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: 'Minor units (kobo)' })
export const Currency = Type.Literal('NGN', { default: 'NGN' })

/** Standard error answers for a route; pass the statuses it can give besides 400/500. */
export function problems(...statuses: number[]): Record<number, typeof ProblemRef> {
  const out: Record<number, typeof ProblemRef> = { 400: ProblemRef, 500: ProblemRef }
  for (const s of statuses) out[s] = ProblemRef
  return out
}
