import { Type, type TSchema, type TObject, type TProperties, type Static, type TUnsafe } from '@sinclair/typebox'

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
/**
 * `T | null` for response schemas, written as a JSON Schema type list (`type: [T, 'null']`)
 * rather than `anyOf`: fast-json-stringify serializes a type list directly but checks every
 * `anyOf` value with Ajv at runtime, which measured about 3× slower on an order. OpenAPI
 * 3.0 output still says `nullable: true` (@fastify/swagger converts it).
 */
export function OrNull<T extends TSchema>(schema: T): TUnsafe<Static<T> | null> {
  const { type, ...rest } = schema as unknown as { type?: string } & Record<string, unknown>
  if (typeof type !== 'string') return Type.Unsafe<Static<T> | null>(Type.Union([schema, Type.Null()]))
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [type, 'null'] })
}

/**
 * One of some strings, as `{type:'string', enum}` rather than a union of literals (an
 * `anyOf`, which fast-json-stringify checks with Ajv at runtime).
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { description?: string; default?: T[number] } = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
}

/** A page of items with the cursor of the next one; named `<Item>Page` in the OpenAPI document when the item is named. */
export function Page<T extends TSchema>(item: T) {
  const name = typeof item.title === 'string' ? item.title : typeof item.$ref === 'string' ? item.$ref : undefined
  return Type.Object(
    { items: Type.Array(item), nextCursor: OrNull(Type.String()) },
    name ? { title: `${name}Page` } : {},
  )
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

/**
 * Characters a name may not hold: controls (NUL, newlines, tabs, escapes), the invisible
 * format characters (soft hyphen, bidi marks, embeddings, overrides and isolates, zero-width
 * spaces, joiners and non-joiners, word joiner, BOM) and line/paragraph separators. They let a
 * name read differently from what it is (`\u202E` turns "Ada gnp.exe" around) or look blank.
 * Written as BMP ranges, not `\p{…}`, so the pattern means the same with and without the `u`
 * flag (Ajv, TypeBox, OpenAPI tools).
 */
const NOT_IN_NAMES =
  '\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u180E\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u206F\\uFEFF\\uFFF9-\\uFFFB'
/** What looks blank: the spaces (Unicode Zs) and the fillers that render as nothing. */
const BLANK = ' \\u00A0\\u1680\\u2000-\\u200A\\u202F\\u205F\\u3000\\u115F\\u1160\\u2800\\u3164\\uFFA0'

/**
 * A name or title other people see (display names, listing and want titles, category names,
 * the name on an address): refused with 400 VALIDATION_FAILED when it holds a control,
 * invisible format or line-separator character, or nothing visible. The pattern is linear on
 * any input (no backtracking blow-up on a long body).
 */
export const NameText = (opts: { minLength?: number; maxLength: number; description?: string }) =>
  Type.String({ pattern: `^[${BLANK}]*[^${NOT_IN_NAMES}${BLANK}][^${NOT_IN_NAMES}]*$`, ...opts })
