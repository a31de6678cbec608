import type { Job } from '../jobs/index.js'

/**
 * Background job: listing_words' counts (`ndoc`, how many listings use a word: the typo
 * correction's tie-breaker) recounted every `hours` (LISTING_WORDS_RECOUNT_HOURS), by one
 * node. Due when listing_words_counted says so; the claim and the recount commit together, so
 * a recount that fails is due again at the next tick.
 *
 * `listing_words_recount()` reads every title first (2.7 s at 1M listings on the bench
 * machine, no lock taken) and only then updates the words whose count changed, so an insert
 * that adds one of those words waits only for the end of the statement and the commit.
 */
export function recountListingWordsJob(hours: number): Job {
  return {
    name: 'listing-words-recount',
    run: async (trx) => {
      const { rows } = await trx.raw<{ rows: unknown[] }>(
        `update listing_words_counted set counted_at = now()
          where counted_at <= now() - make_interval(hours => ?) returning counted_at`,
        [hours],
      )
      if (rows.length === 0) return 0
      await trx.raw('select listing_words_recount()')
      return 1
    },
  }
}
