import type { FastifyBaseLogger } from 'fastify'
import type { Db, Knex } from '../db/index.js'
import type { Job } from '../jobs/index.js'
import type { BlobStore } from './blob-store.js'

/**
 * The outbox of files to delete (table `blob_deletions`). Rows are written in the same
 * transaction as the change that orphans the files, or before an upload as an intent that
 * the storing transaction cancels; the files are deleted right after commit and, when the
 * store is down or the process died first, by the sweeper.
 */
export const blobDeletions = {
  /** Records files to delete `dueInSeconds` from now; returns the row ids. */
  async schedule(db: Db, pathnames: string[], dueInSeconds = 0): Promise<number[]> {
    if (pathnames.length === 0) return []
    const rows = await db('blob_deletions')
      .insert(
        pathnames.map((pathname) => ({ pathname, due_at: db.raw(`now() + make_interval(secs => ?)`, [dueInSeconds]) })),
      )
      .returning('id')
    return rows.map((r) => r.id)
  },

  /** Cancels recorded deletions (the upload they guarded was stored). */
  async cancel(db: Db, ids: number[]): Promise<void> {
    if (ids.length > 0) await db('blob_deletions').whereIn('id', ids).delete()
  },

  /** Makes recorded deletions due at once (an upload failed: its files go now, or with the sweeper). */
  async dueNow(db: Db, ids: number[]): Promise<void> {
    if (ids.length > 0) await db('blob_deletions').whereIn('id', ids).update({ due_at: db.fn.now() })
  },

  /**
   * Deletes the files of the given outbox rows now and then the rows. On a storage error the
   * rows stay, due at once, for the sweeper; the error is logged, not thrown.
   */
  async runNow(db: Db, store: BlobStore, ids: number[], log: FastifyBaseLogger): Promise<boolean> {
    if (ids.length === 0) return true
    const rows = await db('blob_deletions').whereIn('id', ids).select('id', 'pathname')
    if (rows.length === 0) return true
    try {
      await store.delete(rows.map((r) => r.pathname))
      await db('blob_deletions')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .delete()
      return true
    } catch (err) {
      log.warn({ err, files: rows.length }, 'blob deletion failed; the sweeper will retry')
      await db('blob_deletions')
        .whereIn(
          'id',
          rows.map((r) => r.id),
        )
        .update({
          due_at: db.fn.now(),
          attempts: db.raw('attempts + 1'),
          last_error: String((err as Error).cause ?? (err as Error).message).slice(0, 500),
        })
      return false
    }
  },
}

/** The sweeper job: deletes due files in batches; failures back off exponentially (max 1 h). */
export function blobDeletionJob(store: BlobStore, batch = 500): Job {
  return {
    name: 'blob-deletions',
    run: async (trx: Knex.Transaction) => {
      const rows = await trx('blob_deletions')
        .where('due_at', '<=', trx.fn.now())
        .orderBy('due_at')
        .limit(batch)
        .forUpdate()
        .skipLocked()
        .select('id', 'pathname')
      if (rows.length === 0) return 0
      const ids = rows.map((r) => r.id)
      try {
        await store.delete([...new Set(rows.map((r) => r.pathname))])
      } catch (err) {
        await trx('blob_deletions')
          .whereIn('id', ids)
          .update({
            attempts: trx.raw('attempts + 1'),
            due_at: trx.raw("now() + least(interval '1 hour', interval '10 seconds' * power(2, attempts))"),
            last_error: String((err as Error).cause ?? (err as Error).message).slice(0, 500),
          })
        return 0
      }
      await trx('blob_deletions').whereIn('id', ids).delete()
      return rows.length
    },
  }
}
