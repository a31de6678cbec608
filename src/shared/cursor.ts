import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { Errors } from './errors.js'

/**
 * Opaque keyset cursors: the sort key values of the last row, base64url JSON, followed by an
 * HMAC of that payload and of the list it belongs to (`scope`). A cursor the server did not
 * write for this very list (edited, forged, or taken from another list or search) is refused:
 * its values never reach a query, and a client cannot move a bounded list's limits (the
 * relevance window) by writing its own.
 */
let cursorKey: Buffer = randomBytes(32)

/**
 * Sets the key cursors are signed with (the app does at build, from CURSOR_SECRET or the JWT
 * secret). Every node of a deployment must use the same key; until set, a random key of this
 * process is used, so cursors still cannot be forged.
 */
export function useCursorSecret(secret: string): void {
  cursorKey = createHmac('sha256', secret).update('oja cursor key v1').digest()
}

const SIGNATURE_BYTES = 16

const sign = (scope: string, payload: string) =>
  createHmac('sha256', cursorKey).update(scope).update('\0').update(payload).digest().subarray(0, SIGNATURE_BYTES)

export function encodeCursor(values: unknown[], scope: string): string {
  const payload = Buffer.from(JSON.stringify(values)).toString('base64url')
  return `${payload}.${sign(scope, payload).toString('base64url')}`
}

/** The cursor's values, when the server wrote it for this `scope`; otherwise 400 VALIDATION_FAILED. */
export function decodeCursor(cursor: string | undefined, arity: number, scope: string): unknown[] | undefined {
  if (cursor === undefined) return undefined
  const dot = cursor.lastIndexOf('.')
  if (dot > 0) {
    const payload = cursor.slice(0, dot)
    const signature = Buffer.from(cursor.slice(dot + 1), 'base64url')
    if (signature.length === SIGNATURE_BYTES && timingSafeEqual(signature, sign(scope, payload))) {
      try {
        const values = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown
        if (Array.isArray(values) && values.length === arity) return values
      } catch {
        // fall through
      }
    }
  }
  throw Errors.validation('The cursor is not valid for this list', [{ path: '/cursor', message: 'invalid cursor' }])
}

/** Takes `limit + 1` fetched rows and returns the page plus the next cursor (for `scope`). */
export function pageOf<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown[],
  scope: string,
): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last), scope) : null }
}
