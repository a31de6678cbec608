import { defineError } from '../src/shared/index.js'

/** Error codes of live connections (stable; clients switch on `code`). */
export const RealtimeErrors = {
  /** A client cannot be ahead of the server: it would silently skip events. */
  lastSeqAhead: defineError(
    'LAST_SEQ_AHEAD',
    409,
    'lastSeq is ahead of the server; reconnect without it and reload from GET /v1/me/events?after=0',
  ),
  tooManyConnections: defineError(
    'TOO_MANY_CONNECTIONS',
    429,
    (max: number) => `At most ${max} live connections per user; close one first`,
  ),
  sessionMismatch: defineError(
    'SESSION_MISMATCH',
    403,
    'That token belongs to another session; reconnect with it instead',
  ),
  upgradeRequired: defineError(
    'UPGRADE_REQUIRED',
    426,
    'This endpoint is a WebSocket: connect with Upgrade: websocket',
  ),
}
