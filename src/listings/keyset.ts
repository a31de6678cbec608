import { decodeCursor } from '../shared/index.js'
import { invalidField } from './listings.errors.js'

export type KeyKind = 'timestamp' | 'uuid' | 'int' | 'number' | 'string' | 'timestamp?' | 'uuid?' | 'text?'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})$/

function matches(kind: KeyKind, v: unknown): boolean {
  switch (kind) {
    case 'timestamp?':
      return v === null || matches('timestamp', v)
    case 'uuid?':
      return v === null || matches('uuid', v)
    case 'text?':
      return v === null || (typeof v === 'string' && v.length <= 1000)
    case 'timestamp':
      return typeof v === 'string' && ISO.test(v) && !Number.isNaN(Date.parse(v))
    case 'uuid':
      return typeof v === 'string' && UUID.test(v)
    case 'int':
      return Number.isSafeInteger(v)
    case 'number':
      return typeof v === 'number' && Number.isFinite(v)
    case 'string':
      return typeof v === 'string' && v.length <= 100
  }
}

/**
 * Decodes a keyset cursor the server signed for this list (`scope`) and checks each value's
 * kind, so a forged cursor is a 400 and never reaches the database as a malformed value.
 */
export function decodeKeyset(cursor: string | undefined, kinds: KeyKind[], scope: string): unknown[] | undefined {
  const values = decodeCursor(cursor, kinds.length, scope)
  if (values && !kinds.every((k, i) => matches(k, values[i])))
    throw invalidField('/querystring/cursor', 'invalid cursor')
  return values
}
