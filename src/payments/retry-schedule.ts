/*
 * How long Oja keeps trying to confirm money with Paystack, and how often. Paystack itself
 * retries a webhook for 72 h (PROVIDERS.md), so a payment may surface that late: Oja keeps
 * asking as long, backing off so that a Paystack outage costs a few calls an hour.
 */

/** Paystack's own retry horizon: past it, what Oja could not confirm is raised to admins. */
export const PAYSTACK_HORIZON_MS = 72 * 3_600_000

/** The longest gap between two tries. */
export const MAX_RETRY_GAP_MS = 3_600_000

/**
 * The gap before the next try after `failures` failed tries in a row: the first retry on
 * the next sweep, then 5 s doubling (5, 10, 20, … s) up to an hour. About 80 tries in 72 h.
 */
export function retryGapMs(failures: number): number {
  if (failures <= 1) return 0
  return Math.min(5_000 * 2 ** (failures - 2), MAX_RETRY_GAP_MS)
}
