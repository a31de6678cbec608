/*
 * The arithmetic of seller money, in integer kobo (docs/money.md): a line's fee and VAT, a
 * refund's reversal, and a split of an amount in proportion. Every function is exact: what
 * it hands out sums to what it was given, so no kobo is made or lost.
 */

/** `round_half_up(a × b / c)` for non-negative integers, exact beyond 2^53 (BigInt inside). */
export function mulDivRound(a: number, b: number, c: number): number {
  if (c <= 0) throw new RangeError('mulDivRound: the divisor must be positive')
  if (a < 0 || b < 0) throw new RangeError('mulDivRound: a and b must not be negative')
  const n = BigInt(a) * BigInt(b)
  const d = BigInt(c)
  return Number((2n * n + d) / (2n * d))
}

export type Rates = { feeBps: number; vatBps: number }

/** A line's (or a sum of lines') split: the platform's fee, VAT on the fee, the seller's share. */
export type Split = { gross: number; fee: number; vat: number; share: number }

/** One order line: `fee = round_half_up(line × fee bps / 10 000)`, `vat = round_half_up(fee × vat bps / 10 000)`. */
export function lineSplit(line: number, rates: Rates): Split {
  const fee = mulDivRound(line, rates.feeBps, 10_000)
  const vat = mulDivRound(fee, rates.vatBps, 10_000)
  return { gross: line, fee, vat, share: line - fee - vat }
}

/** A shipment's split: the sum of its lines' splits. */
export function sumSplits(lines: number[], rates: Rates): Split {
  const total: Split = { gross: 0, fee: 0, vat: 0, share: 0 }
  for (const line of lines) {
    const s = lineSplit(line, rates)
    total.gross += s.gross
    total.fee += s.fee
    total.vat += s.vat
    total.share += s.share
  }
  return total
}

/**
 * What a refund has taken back of a split once `reversed` of its gross has been refunded:
 * the seller gives back `round_half_up(reversed × share / gross)`, the fee in proportion, VAT
 * the rest; a full reversal gives back exactly the split.
 */
export function reversedAt(split: Split, reversed: number): Split {
  if (reversed <= 0 || split.gross === 0) return { gross: 0, fee: 0, vat: 0, share: 0 }
  if (reversed >= split.gross) return { ...split }
  const share = mulDivRound(reversed, split.share, split.gross)
  const fee = Math.min(mulDivRound(reversed, split.fee, split.gross), reversed - share)
  return { gross: reversed, fee, vat: reversed - share - fee, share }
}

/**
 * Splits `amount` over `weights` in proportion (largest remainder, ties to the earlier one):
 * the parts sum to `amount` exactly and none exceeds its weight when `amount` ≤ their sum.
 */
export function apportion(amount: number, weights: number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0)
  if (amount <= 0 || total <= 0) return weights.map(() => 0)
  if (amount >= total) return [...weights]
  const parts = weights.map((w) => Number((BigInt(amount) * BigInt(w)) / BigInt(total)))
  const remainders = weights.map((w, i) => ({
    i,
    r: (BigInt(amount) * BigInt(w)) % BigInt(total),
  }))
  let left = amount - parts.reduce((s, p) => s + p, 0)
  remainders.sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1))
  for (const { i } of remainders) {
    if (left <= 0) break
    if (parts[i]! < weights[i]!) {
      parts[i] = parts[i]! + 1
      left -= 1
    }
  }
  return parts
}

/**
 * How much of the lines' gross a refunded amount of the order's payment stands for: an order
 * paid `total` for lines worth `gross` (a platform coupon paid the difference) gives back
 * `round_half_up(refunded × gross / total)` of them, and all of them once all was refunded.
 */
export function grossOfRefunded(refunded: number, total: number, gross: number): number {
  if (refunded <= 0 || total <= 0) return 0
  if (refunded >= total) return gross
  return Math.min(gross, mulDivRound(refunded, gross, total))
}

/**
 * Splits `amount` over `weights` in proportion, no part above its `cap`: what a capped part
 * cannot take goes to the others, in proportion to their weights. The parts sum to
 * `amount` when the caps allow it (else to the sum of the caps).
 */
export function apportionCapped(amount: number, weights: number[], caps: number[]): number[] {
  const parts = weights.map(() => 0)
  let left = Math.min(
    amount,
    caps.reduce((s, c) => s + Math.max(0, c), 0),
  )
  let open = weights.map((_, i) => i).filter((i) => caps[i]! > 0)
  while (left > 0 && open.length > 0) {
    const share = apportion(
      left,
      open.map((i) => Math.max(1, weights[i]!)),
    )
    let given = 0
    const next: number[] = []
    open.forEach((i, k) => {
      const room = caps[i]! - parts[i]!
      const take = Math.min(room, share[k]!)
      parts[i] = parts[i]! + take
      given += take
      if (parts[i]! < caps[i]!) next.push(i)
    })
    left -= given
    if (given === 0) break
    open = next
  }
  return parts
}
