import { blockedEitherWaySql } from '../accounts/index.js'
import type { EventSpine } from '../events/index.js'
import type { TxCtx } from '../shared/index.js'
import { openWantSql } from './visibility.js'

/** How near a want and a listing must be when both carry coordinates. */
export const WANT_MATCH_RADIUS_KM = 50

/**
 * Tells the authors of open wants that a just-published listing matches them (`want_match`),
 * in the caller's transaction and with one INSERT ... SELECT whatever the number of wants:
 * every word of the want's title appears in the listing (English stemming), the listing's
 * category is the want's or below it, its price is within `maxPrice`, and when both have
 * coordinates they are within 50 km (else, when both name a state, the same state). Authors
 * blocked by or blocking the seller are skipped, and so are wants of banned authors (openWantSql). Returns how many were notified.
 */
export async function notifyWantMatches(spine: EventSpine, tx: TxCtx, listingId: string): Promise<number> {
  const matches = tx.db.raw(
    `with listing as (
       select * from listings where id = :listingId
     ), ancestors as (
       with recursive up as (
         select c.id, c.parent_id from categories c join listing l on c.id = l.category_id
         union all
         select c.id, c.parent_id from categories c join up on c.id = up.parent_id
       ) select id from up
     )
     select w.user_id, jsonb_build_object('wantId', w.id, 'listingId', l.id) as data
     from listing l
     join wants w on ${openWantSql('w')} and w.user_id <> l.seller_id and w.currency = l.currency
     where numnode(w.match_query) > 0
       and w.match_query @@ l.search_vector
       and (w.max_price is null or l.price <= w.max_price)
       and (w.category_id is null or w.category_id in (select id from ancestors))
       and case
             when w.lat is not null and l.lat is not null then earth_distance(ll_to_earth(w.lat, w.lng), ll_to_earth(l.lat, l.lng)) <= :radiusMeters
             when w.state is not null and l.state is not null then lower(w.state) = lower(l.state)
             else true
           end
       and not ${blockedEitherWaySql('w.user_id', 'l.seller_id')}`,
    { listingId, radiusMeters: WANT_MATCH_RADIUS_KM * 1000 },
  )
  // The notifications are that feature's rows: stored through the spine, with their events.
  return (await spine.notify(tx, matches, 'want_match', 'per row')).length
}
