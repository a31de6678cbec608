import { Errors } from './errors.js'

/** Opaque keyset cursors: the sort key values of the last row, base64url JSON. */
export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url')
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (cursor === undefined) return undefined
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown
    if (Array.isArray(values) && values.length === arity) return values
  } catch {
    // fall through
  }
  throw Errors.validation('The cursor is not valid for this list', [{ path: '/cursor', message: 'invalid cursor' }])
}

/** Takes `limit + 1` fetched rows and returns the page plus the next cursor. */
export function pageOf<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown[],
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}
