import type { Redis } from 'ioredis'
import type { RateLimiterAbstract } from 'rate-limiter-flexible'
import { consumeOrRefuse, createLimiter } from '../http/index.js'

/**
 * Chat sends: 20 per user per 10 s (times RATE_LIMIT_SCALE; 0 turns it off), shared by the
 * socket and the REST fallback, and by messages and offers (making or countering one). With
 * Redis the count is shared by every node; if Redis is unreachable each node falls back to its
 * own in-memory count rather than refusing sends. The same limiter, under another `name`,
 * counts read receipts (CHAT_READ_LIMIT per 10 s).
 */
export class SendLimiter {
  private readonly limiter?: RateLimiterAbstract

  constructor(opts: {
    scale: number
    redis?: Redis | null
    prefix: string
    /** What is counted: `chat-send` (default) or `chat-read`. */
    name?: string
    points?: number
    durationSeconds?: number
  }) {
    if (opts.scale <= 0) return
    this.limiter = createLimiter({
      redis: opts.redis,
      keyPrefix: `${opts.prefix}${opts.name ?? 'chat-send'}`,
      points: opts.points ?? 20,
      scale: opts.scale,
      durationSeconds: opts.durationSeconds ?? 10,
    })
  }

  /** Takes one send from the user's allowance or throws 429 RATE_LIMITED with Retry-After. */
  async consume(userId: string): Promise<void> {
    if (this.limiter) await consumeOrRefuse(this.limiter, userId)
  }
}
