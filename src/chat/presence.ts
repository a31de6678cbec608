/**
 * Whether a user has a live connection (Socket.IO or the plain feed) on any node. The
 * realtime layer provides it; without one (REST-only node) nobody counts as online, so a
 * `message` notification is always created.
 */
export interface Presence {
  isOnline(userId: string): Promise<boolean>
}

export const nobodyOnline: Presence = { isOnline: async () => false }
