import type { Static } from '@sinclair/typebox'
import type { AdminEventSchemas } from './events.schemas.js'

/** One stored, user-facing event (a row of `user_events`). */
export type StoredEvent = {
  userId: string
  seq: number
  event: string
  data: unknown
  createdAt: Date | string
}

/**
 * Events for admins' live connections only (the admin console's queues appear live). They
 * are not stored per user and carry no `seq`: an admin's console reloads its queues after a
 * reconnect instead of replaying them. Their data are the schemas of events.schemas.ts.
 */
export type AdminEvents = { [E in keyof typeof AdminEventSchemas]: Static<(typeof AdminEventSchemas)[E]> }
export type AdminEventName = keyof AdminEvents

/** One admin event on its way out (collected on the transaction, published after commit). */
export type AdminBroadcast = {
  [E in AdminEventName]: { audience: 'admins'; event: E; data: AdminEvents[E] }
}[AdminEventName]

/** What a transaction collects for after its commit: stored events and admin broadcasts. */
export type PendingEvent = StoredEvent | AdminBroadcast

export const isAdminBroadcast = (e: PendingEvent): e is AdminBroadcast => 'audience' in e

/**
 * Delivers committed events to live connections. The realtime layer implements it over
 * Socket.IO rooms; without it, a no-op keeps the REST resync path as the source of truth.
 */
export interface Publisher {
  publish(events: StoredEvent[]): void
  /** Sends unstored events to every admin's live connections on every node. */
  toAdmins?(events: AdminBroadcast[]): void
  /**
   * Drops the live connections of a user on every node (a ban), or of one session (logout,
   * refresh-token reuse, password reset).
   */
  disconnect?(target: { userId: string; sessionId?: string; reason: string }): void
}

export const noopPublisher: Publisher = { publish: () => {} }
