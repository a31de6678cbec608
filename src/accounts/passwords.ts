import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2'
import { AccountErrors } from './accounts.errors.js'

/** OWASP's argon2id minimum: 19 MiB, 2 passes (the default; PASSWORD_HASH_MEMORY_KIB and PASSWORD_HASH_PASSES). */
export const ARGON_OPTS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 }

/**
 * Password hashing with a bound: argon2 is built to take a core for tens of milliseconds, so
 * a storm of sign-ins (right or wrong passwords, from addresses the rate limits do not stop)
 * would otherwise take every core from every other route. At most `concurrency` hashes run at
 * once in this process; up to `queue` more wait their turn; past that a request is refused at
 * once with 503 PASSWORD_CHECK_BUSY and `Retry-After` instead of waiting until it times out.
 * One bound per process, because the cores it protects are the process's.
 */
class PasswordHashing {
  private running = 0
  private readonly waiting: (() => void)[] = []
  private limits = { concurrency: 1, queue: 100 }
  /** The cost of new hashes (a stored hash names its own, so verify needs none). */
  argon = { ...ARGON_OPTS }
  /** The most hashes that ran at once, and the most that waited (tests check the bounds hold). */
  peak = 0
  peakWaiting = 0

  configure(limits: { concurrency: number; queue: number; memoryKiB?: number; passes?: number }): void {
    this.limits = { concurrency: limits.concurrency, queue: limits.queue }
    this.argon = {
      ...ARGON_OPTS,
      memoryCost: limits.memoryKiB ?? ARGON_OPTS.memoryCost,
      timeCost: limits.passes ?? ARGON_OPTS.timeCost,
    }
  }

  hash(password: string): Promise<string> {
    return this.run(() => argonHash(password, this.argon))
  }

  /** A hash outside the bound (the start-up's dummy hash for unknown emails). */
  hashUnbounded(password: string): Promise<string> {
    return argonHash(password, this.argon)
  }

  /** False for a wrong password or a hash argon2 cannot read. */
  verify(hash: string, password: string): Promise<boolean> {
    return this.run(() => argonVerify(hash, password).catch(() => false))
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.limits.concurrency) this.running++
    else if (this.waiting.length >= this.limits.queue) throw AccountErrors.passwordCheckBusy()
    // The slot is handed over by the one that ends (running stays counted).
    else
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve)
        this.peakWaiting = Math.max(this.peakWaiting, this.waiting.length)
      })
    this.peak = Math.max(this.peak, this.running)
    try {
      return await work()
    } finally {
      const next = this.waiting.shift()
      if (next) next()
      else this.running--
    }
  }
}

export const passwords = new PasswordHashing()
