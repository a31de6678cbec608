import type { Db } from '../db/index.js'
import type { WantRow } from './wants.tables.js'

/**
 * The one definition of "a want everyone sees", as SQL over the wants row `w`: open, and its
 * author not banned (`author_banned`, set in the ban's transaction and cleared by the unban).
 * The public list and want matching use it.
 */
export function openWantSql(w = 'w'): string {
  return `${w}.status = 'open' and not ${w}.author_banned`
}

/**
 * Who may see a want (its page, answering it, a chat about it): anyone, unless its author is
 * banned; then only the author and admins. Whoever may not is answered WANT_NOT_FOUND.
 */
export function isWantVisibleTo(
  want: Pick<WantRow, 'user_id' | 'author_banned'>,
  viewer: { id: string; role?: string } | null | undefined,
): boolean {
  return !want.author_banned || want.user_id === viewer?.id || viewer?.role === 'admin'
}

/**
 * Takes an author's wants off every public path or puts them back, in the caller's
 * transaction: the ban's and the unban's. Returns how many wants changed.
 */
export async function setAuthorBanned(db: Db, userId: string, banned: boolean): Promise<number> {
  return db('wants').where('user_id', userId).whereNot('author_banned', banned).update({ author_banned: banned })
}
