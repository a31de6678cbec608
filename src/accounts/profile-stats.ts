import type { Db } from '../db/index.js'
import { sellerRating } from '../trust/index.js'

/** A seller's count of active listings, for public profiles. */
export async function activeListingsOf(db: Db, userId: string): Promise<number> {
  const row = await db('listings').where({ seller_id: userId, status: 'active' }).count({ n: '*' }).first()
  return Number(row?.n ?? 0)
}

/** A seller's rating over visible reviews (the counters kept by src/trust/reviews.service.ts). */
export async function ratingOf(db: Db, userId: string): Promise<{ average: number | null; count: number }> {
  const { average, count } = await sellerRating(db, userId)
  return { average, count }
}
