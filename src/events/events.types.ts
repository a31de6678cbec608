/** One stored, user-facing event (a row of `user_events`). */
export type StoredEvent = {
  userId: string
  seq: number
  event: string
  data: unknown
  createdAt: Date | string
}

/**
 * Delivers committed events to live connections. The realtime layer implements it over
 * Socket.IO rooms; without it, a no-op keeps the REST resync path as the source of truth.
 */
export interface Publisher {
  publish(events: StoredEvent[]): void
  /**
   * Drops the live connections of a user on every node (a ban), or of one session (logout,
   * refresh-token reuse, password reset).
   */
  disconnect?(target: { userId: string; sessionId?: string; reason: string }): void
}

export const noopPublisher: Publisher = { publish: () => {} }
