import type { FastifyBaseLogger } from 'fastify'
import { blockedEitherWaySql } from '../accounts/index.js'
import type { Db, Knex } from '../db/index.js'
import type { EventSpine } from '../events/index.js'
import { PollLoop } from '../jobs/index.js'
import type { Job } from '../jobs/index.js'
import type { TxCtx } from '../shared/index.js'
import type { PriceDropFanoutRow } from './wishlists.tables.js'

/** A committed price drop of an active listing, as its PATCH records it. */
export type PriceDrop = { listingId: string; oldPrice: number; newPrice: number; currency: string }

/** The workers of this process, kicked right after a drop commits (other nodes poll). */
const localWorkers = new Set<PriceDropWorker>()

/**
 * Records a price drop in the caller's transaction: ONE outbox row, whatever the number of
 * wishlisters. The workers of this process are kicked once it commits (never if it rolls
 * back); workers elsewhere find it at their next poll.
 */
export async function queuePriceDrop(db: Db, drop: PriceDrop): Promise<void> {
  await db('price_drop_fanouts').insert({
    listing_id: drop.listingId,
    old_price: drop.oldPrice,
    new_price: drop.newPrice,
    currency: drop.currency,
  })
  const committed = (db as Partial<Knex.Transaction>).executionPromise
  const kick = () => {
    for (const worker of localWorkers) worker.kick()
  }
  if (committed)
    committed.then(
      () => kick(),
      () => {},
    )
  else kick()
}

/** What one batch did (or why it did nothing). */
export type FanoutBatch = {
  fanoutId: number
  listingId: string
  /** Wishlisters looked at in this batch (the slice after the cursor). */
  scanned: number
  /** Notifications written (the throttle, the seller and blocks leave the others out). */
  alerted: number
  /** The row is finished after this batch: done, superseded by nothing more, or withdrawn. */
  finished: PriceDropFanoutRow['outcome']
}

export type PriceDropWorkerOptions = {
  db: Knex
  spine: EventSpine
  log: FastifyBaseLogger
  /** Wishlisters per batch (PRICE_DROP_BATCH). */
  batch: number
  /** Passes when nothing kicks (PRICE_DROP_POLL_INTERVAL_MS). */
  pollMs: number
  /** At most one alert per listing and wishlister in this many hours (PRICE_DROP_ALERT_HOURS). */
  alertHours: number
  /**
   * Runs inside each batch's transaction just before it commits (tests: a crash mid-way, by
   * throwing or by killing the connection).
   */
  beforeCommit?: (tx: TxCtx, batch: FanoutBatch) => Promise<void> | void
}

type Claimed = Pick<
  PriceDropFanoutRow,
  'id' | 'listing_id' | 'old_price' | 'new_price' | 'currency' | 'cursor_user_id' | 'attempts'
> & { seller_id: string; on_sale: boolean }

/** Back-off after the n-th failed batch of a row: 1 s, 2 s, 4 s, ... capped at five minutes. */
const backoffMs = (attempts: number) => Math.min(1_000 * 2 ** Math.max(0, attempts - 1), 300_000)

/**
 * Fans price drops out to wishlisters. Any number of nodes run one; a batch is ONE
 * transaction that claims the oldest due drop (FOR UPDATE SKIP LOCKED: a drop is one worker's
 * at a time, the others skip it), takes the next `batch` wishlisters after the cursor in user
 * id order, records the throttle (price_drop_alerts) and the notifications with their
 * `notification:new` events for those it alerts, and advances the cursor. A crash rolls the
 * batch back whole: the next worker repeats nothing and loses nothing. Events are published
 * after each batch commits, so the first wishlisters hear of the drop before the last
 * batch is written.
 *
 * A later drop of the same listing supersedes a pending one: the pending row is closed and
 * the later one starts over from the first wishlister, carrying the price they last knew; the
 * throttle keeps those already alerted from a second alert, so everyone gets one alert with
 * the latest price. A listing no longer on sale (removed, sold, back to draft, seller banned)
 * stops its fan-out.
 */
export class PriceDropWorker {
  private readonly loop: PollLoop

  constructor(private readonly opts: PriceDropWorkerOptions) {
    // A batch done means more may be due: the next pass runs at once.
    this.loop = new PollLoop(async () => (await this.runBatch()) !== null, {
      pollMs: opts.pollMs,
      log: opts.log,
      name: 'price-drop fan-out',
    })
  }

  start(): void {
    localWorkers.add(this)
    this.loop.start()
  }

  /** Runs a batch soon (a drop committed on this node). */
  kick(): void {
    this.loop.kick()
  }

  async stop(): Promise<void> {
    localWorkers.delete(this)
    await this.loop.stop()
  }

  /** Runs batches until no drop is due (tests, and nodes started without their background loops). */
  async drain(): Promise<FanoutBatch[]> {
    const done: FanoutBatch[] = []
    for (;;) {
      const batch = await this.runBatch()
      if (!batch) return done
      done.push(batch)
    }
  }

  /**
   * One batch of the oldest due drop; null when none is due (or all are being worked on). A
   * failed batch is rolled back, noted on its row with a back-off, and rethrown.
   */
  async runBatch(): Promise<FanoutBatch | null> {
    let claimed: Claimed | undefined
    try {
      return await this.opts.spine.transaction({ db: this.opts.db, log: this.opts.log }, async (tx) => {
        claimed = await this.claim(tx)
        if (!claimed) return null
        const batch = await this.expand(tx, claimed)
        await this.opts.beforeCommit?.(tx, batch)
        return batch
      })
    } catch (err) {
      if (claimed) {
        const attempts = claimed.attempts + 1
        await this.opts
          .db('price_drop_fanouts')
          .where('id', claimed.id)
          .update({
            attempts,
            next_attempt_at: this.opts.db.raw(`now() + ? * interval '1 millisecond'`, [backoffMs(attempts)]),
            last_error: String((err as Error)?.message ?? err).slice(0, 500),
          })
          .catch((e: unknown) => this.opts.log.warn({ err: e }, 'price-drop fan-out: could not record the failure'))
      }
      throw err
    }
  }

  /** The oldest due drop that is its listing's latest, locked for this batch (others skip it). */
  private async claim(tx: TxCtx): Promise<Claimed | undefined> {
    const { rows } = await tx.db.raw<{ rows: Claimed[] }>(
      `select f.id, f.listing_id, f.old_price, f.new_price, f.currency, f.cursor_user_id, f.attempts,
              l.seller_id, (l.status = 'active' and not l.seller_banned) as on_sale
         from price_drop_fanouts f join listings l on l.id = f.listing_id
        where f.finished_at is null and f.next_attempt_at <= now()
          and not exists (select 1 from price_drop_fanouts n
                           where n.listing_id = f.listing_id and n.id > f.id and n.finished_at is null)
        order by f.id
        limit 1
        for update of f skip locked`,
    )
    return rows[0]
  }

  private async expand(tx: TxCtx, row: Claimed): Promise<FanoutBatch> {
    const db = tx.db
    const result = (scanned: number, alerted: number, finished: FanoutBatch['finished']): FanoutBatch => ({
      fanoutId: row.id,
      listingId: row.listing_id,
      scanned,
      alerted,
      finished,
    })
    if (row.cursor_user_id === null) {
      // The first batch closes the listing's earlier drops still pending (waiting for the lock
      // of one being worked on): this drop tells everyone, from the price they last knew.
      const { rows } = await db.raw<{ rows: { old_price: number }[] }>(
        `with earlier as (
           update price_drop_fanouts set finished_at = now(), outcome = 'superseded'
            where listing_id = :listingId and id < :id and finished_at is null
           returning old_price
         )
         update price_drop_fanouts
            set old_price = greatest(old_price, coalesce((select max(old_price) from earlier), old_price))
          where id = :id
         returning old_price`,
        { listingId: row.listing_id, id: row.id },
      )
      row.old_price = Number(rows[0]!.old_price)
    }
    if (!row.on_sale) {
      await db('price_drop_fanouts').where('id', row.id).update({ finished_at: db.fn.now(), outcome: 'withdrawn' })
      return result(0, 0, 'withdrawn')
    }

    // The next slice of wishlisters and, in the same statement, the throttle: a first drop
    // alerts everyone (not the seller, not across a block); after that a wishlister is alerted
    // again only below the lowest price already alerted, and not within `hours` of the last.
    const { rows } = await db.raw<{ rows: { scanned: number; last: string | null; alerted: string[] }[] }>(
      `with slice as (
         select w.user_id from wishlists w
          where w.listing_id = :listingId
            and w.user_id > coalesce(:cursor::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
          order by w.user_id
          limit :batch
       ), alerted as (
         insert into price_drop_alerts as a (listing_id, user_id, lowest_price, alerted_at)
         select :listingId::uuid, s.user_id, :price::bigint, now() from slice s
          where s.user_id <> :sellerId::uuid
            and not ${blockedEitherWaySql('s.user_id', ':sellerId::uuid')}
          order by s.user_id
         on conflict (listing_id, user_id) do update
            set lowest_price = excluded.lowest_price, alerted_at = excluded.alerted_at
          where excluded.lowest_price < a.lowest_price
            and a.alerted_at <= now() - make_interval(hours => :hours::int)
         returning a.user_id
       )
       select (select count(*) from slice)::int as scanned,
              (select user_id from slice order by user_id desc limit 1) as last,
              coalesce((select array_agg(user_id order by user_id) from alerted), '{}') as alerted`,
      {
        listingId: row.listing_id,
        cursor: row.cursor_user_id,
        batch: this.opts.batch,
        sellerId: row.seller_id,
        price: row.new_price,
        hours: this.opts.alertHours,
      },
    )
    const { scanned, last, alerted } = rows[0]!
    if (alerted.length > 0)
      await this.opts.spine.notify(tx, alerted, 'price_drop', {
        listingId: row.listing_id,
        oldPrice: Number(row.old_price),
        newPrice: Number(row.new_price),
        currency: row.currency,
      })
    const finished = scanned < this.opts.batch ? 'done' : null
    await db('price_drop_fanouts')
      .where('id', row.id)
      .update({
        cursor_user_id: last ?? row.cursor_user_id,
        batches: db.raw('batches + 1'),
        alerted: db.raw('alerted + ?', [alerted.length]),
        attempts: 0,
        last_error: null,
        ...(finished ? { finished_at: db.fn.now(), outcome: finished } : {}),
      })
    return result(scanned, alerted.length, finished)
  }
}

/** Background job: finished fan-outs are deleted a week later. */
export const purgePriceDropFanoutsJob: Job = {
  name: 'purge-price-drop-fanouts',
  run: (trx) =>
    trx('price_drop_fanouts')
      .whereNotNull('finished_at')
      .where('finished_at', '<', trx.raw("now() - interval '7 days'"))
      .delete(),
}
