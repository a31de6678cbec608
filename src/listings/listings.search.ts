import type { Db, ReadPool } from '../db/index.js'
import { CATEGORY_LEVELS, categorySubtree } from '../categories/index.js'
import type { BlobStore } from '../images/index.js'
import type { Ctx } from '../shared/index.js'
import { encodeCursor } from '../shared/index.js'
import { listingOnSaleSql } from './availability.js'
import { hotQuery, type Bindings } from '../db/index.js'
import { decodeKeyset, type KeyKind } from './keyset.js'
import { invalidField } from './listings.errors.js'
import type { ListingCard, SearchQuery, SearchSort } from './listings.schemas.js'
import { cardSelect, toCard, type CardRow, type Sql } from './listings.sql.js'

/** Below this many exact matches on a first page, typo-tolerant matching takes over. */
export const FUZZY_BELOW = 5

/**
 * A query that uses web-search operators (quotes, `-word`, `or`) says exactly what it
 * wants; it is never widened by typo matching.
 */
export function usesOperators(q: string): boolean {
  return /["]/.test(q) || /(^|\s)-\S/.test(q) || /(^|\s)or(\s|$)/i.test(q)
}

/**
 * Relevance ranks at most this many matches: the newest ones that pass the filters. A term
 * that matches 60 000 listings would otherwise rank all of them on every page. The window's
 * oldest row is pinned in the cursor, so later pages rank the same rows (plus newer ones).
 */
export const RELEVANCE_WINDOW = 500

/**
 * pg_trgm similarity a title word needs to replace a misspelt query word ("samsumg" →
 * "samsung" is 0.45, "frdge" → "fridge" 0.44).
 */
export const CORRECTION_THRESHOLD = 0.4

/** How many nearest title words (by trigram distance) a misspelt word's correction is chosen from. */
const CORRECTION_CANDIDATES = 8

export type SearchMode = 'exact' | 'fuzzy'

/** A validated search: filters resolved (category subtree), the sort chosen. */
export type SearchPlan = {
  q?: string
  /**
   * A category subtree as the node and its depth: `category_l<depth> = node`, one range scan
   * of that level's index (see migration 20261211000100). Set for nodes at depth 1..CATEGORY_LEVELS.
   */
  category?: { id: string; depth: number }
  /** A category subtree as the list of its ids (nodes deeper than CATEGORY_LEVELS). */
  categoryIds?: string[]
  condition?: string[]
  type?: string
  minPrice?: number
  maxPrice?: number
  sellerId?: string
  origin?: { lat: number; lng: number }
  radiusKm?: number
  sort: SearchSort
  limit: number
  mode: SearchMode
  /**
   * Fuzzy mode only: the query with its misspelt words corrected (correctQuery). The page
   * matches `q` or this, so listings that contain the misspelling itself still match.
   */
  corrected?: string
  /** The cursor's sort key (ISO time, price or rank/distance) and id. */
  after?: [string | number, string]
  /** Relevance only: the oldest (published_at, id) of the ranked window, pinned by page 1. */
  floor?: [string, string]
  /** Radius only: false when the circle is dense and the sort index should lead (see radiusIsDense). */
  geoIndex?: boolean
  /** How many of the newest matches relevance ranks (RELEVANCE_WINDOW unless a test says otherwise). */
  window?: number
  viewerId?: string
}

/** How each sort orders rows and what its keyset cursor holds. */
type SortSpec = { key: Sql; dir: 'asc' | 'desc'; cast: string; cursorKey: Sql }

const none = {}

/** The plan's tsquery: the query's, or in fuzzy mode the query's or its correction's. */
function tsqueryOf(plan: SearchPlan): Sql {
  if (plan.mode === 'exact') return { sql: "websearch_to_tsquery('english', :q)", bindings: { q: plan.q ?? null } }
  if (plan.corrected === undefined) throw new Error('a fuzzy plan needs its corrected query')
  return {
    sql: "(websearch_to_tsquery('english', :q) || websearch_to_tsquery('english', :corrected))",
    bindings: { q: plan.q ?? null, corrected: plan.corrected },
  }
}

function sortSpec(plan: SearchPlan): SortSpec {
  switch (plan.sort) {
    case 'newest':
      // Microseconds survive in the cursor as ISO text (a JS Date would keep milliseconds only).
      return {
        key: { sql: 'l.published_at', bindings: none },
        dir: 'desc',
        cast: 'timestamptz',
        cursorKey: { sql: "to_json(l.published_at) #>> '{}'", bindings: none },
      }
    case 'price_asc':
    case 'price_desc': {
      const key = { sql: 'l.price', bindings: none }
      return { key, dir: plan.sort === 'price_asc' ? 'asc' : 'desc', cast: 'bigint', cursorKey: key }
    }
    case 'relevance': {
      // Title (weight A) counts more than description (B). In fuzzy mode the tsquery is the
      // query's or its correction's, so either word ranks a listing.
      const tsq = tsqueryOf(plan)
      const key = { sql: `ts_rank(l.search_vector, ${tsq.sql})::float8`, bindings: tsq.bindings }
      return { key, dir: 'desc', cast: 'float8', cursorKey: key }
    }
    case 'distance': {
      // Chord distance through the earth grows with the great-circle distance, so ordering by
      // the cube `<->` operator is ordering by distance, and the GiST index serves it (KNN).
      const key = {
        sql: '(ll_to_earth(l.lat, l.lng) <-> ll_to_earth(:originLat, :originLng))',
        bindings: { originLat: plan.origin!.lat, originLng: plan.origin!.lng },
      }
      return { key, dir: 'asc', cast: 'float8', cursorKey: key }
    }
  }
}

/**
 * The WHERE clause of a plan. It starts with listingOnSaleSql (`status = 'active' and not
 * seller_banned`) as literal text, so the partial indexes, which carry the same predicate, apply.
 */
function whereOf(plan: SearchPlan): Sql {
  const parts: string[] = [listingOnSaleSql('l')]
  const bindings: Bindings = {}
  const add = (sql: string, b: Bindings = none) => {
    parts.push(sql)
    Object.assign(bindings, b)
  }
  if (plan.q !== undefined) {
    const tsq = tsqueryOf(plan)
    add(`l.search_vector @@ ${tsq.sql}`, tsq.bindings)
  }
  if (plan.category) {
    const { depth } = plan.category
    if (!Number.isInteger(depth) || depth < 1 || depth > CATEGORY_LEVELS) throw new Error(`no level ${depth}`)
    add(`l.category_l${depth} = :categoryNode`, { categoryNode: plan.category.id })
  }
  if (plan.categoryIds)
    add(
      plan.categoryIds.length === 1 ? 'l.category_id = :categoryId' : 'l.category_id = any(:categoryIds::uuid[])',
      plan.categoryIds.length === 1 ? { categoryId: plan.categoryIds[0]! } : { categoryIds: plan.categoryIds },
    )
  if (plan.condition)
    add(
      plan.condition.length === 1 ? 'l.condition = :condition' : 'l.condition = any(:conditions::text[])',
      plan.condition.length === 1 ? { condition: plan.condition[0]! } : { conditions: plan.condition },
    )
  if (plan.type) add('l.type = :listingType', { listingType: plan.type })
  if (plan.minPrice !== undefined) add('l.price >= :minPrice', { minPrice: plan.minPrice })
  if (plan.maxPrice !== undefined) add('l.price <= :maxPrice', { maxPrice: plan.maxPrice })
  if (plan.sellerId) add('l.seller_id = :sellerId', { sellerId: plan.sellerId })
  if (plan.origin && (plan.radiusKm !== undefined || plan.sort === 'distance')) add('l.lat is not null')
  if (plan.origin && plan.radiusKm !== undefined) {
    const circle = { originLat: plan.origin.lat, originLng: plan.origin.lng, radiusMeters: plan.radiusKm * 1000 }
    // The box test uses the GiST index; the exact great-circle test trims its corners.
    if (plan.geoIndex !== false)
      add('earth_box(ll_to_earth(:originLat, :originLng), :radiusMeters) @> ll_to_earth(l.lat, l.lng)', circle)
    add('earth_distance(ll_to_earth(:originLat, :originLng), ll_to_earth(l.lat, l.lng)) <= :radiusMeters', circle)
  }
  return { sql: parts.join(' and '), bindings }
}

function cardSelectOf(db: Db, plan: SearchPlan): Sql {
  return cardSelect(db, { viewerId: plan.viewerId, origin: plan.origin })
}

/**
 * The SQL of one page (every sort but distance): an inner query finds the page's ids by
 * keyset on an index (the only part that touches many rows), the outer one builds the
 * cards of those `limit + 1` rows.
 */
export function pageSql(db: Db, plan: SearchPlan): Sql {
  if (plan.sort === 'distance') throw new Error('distance pages are built by distanceCandidatesSql')
  const spec = sortSpec(plan)
  const where = whereOf(plan)
  const op = spec.dir === 'desc' ? '<' : '>'
  const order = `${spec.key.sql} ${spec.dir}, l.id ${spec.dir}`
  const cols = cardSelectOf(db, plan)
  const outer = (inner: Sql): Sql => ({
    sql: `select ${cols.sql}, p.cursor_key, p.floor_at, p.floor_id from (${inner.sql}) p join listings l on l.id = p.id join users u on u.id = l.seller_id order by ${order}`,
    bindings: { ...cols.bindings, ...inner.bindings, ...spec.key.bindings },
  })
  const pageSize = { pageSize: plan.limit + 1 }

  if (plan.sort === 'relevance') {
    // Rank a bounded window: the newest matches (an index walk or a small bitmap), then
    // order that window by rank. Page 1 fixes the window's floor; later pages reuse it.
    const floor = { floorAt: plan.floor?.[0] ?? null, floorId: plan.floor?.[1] ?? null }
    const pinned = plan.floor
      ? { sql: ' and (l.published_at, l.id) >= (:floorAt::timestamptz, :floorId::uuid)', bindings: floor }
      : { sql: '', bindings: none }
    const size = plan.window ?? RELEVANCE_WINDOW
    const bounded = !plan.after // page 1 sets the bound
    const keyset = plan.after
      ? {
          sql: ' where (w.rank, w.id) < (:afterKey::float8, :afterId::uuid)',
          bindings: { afterKey: plan.after[0], afterId: plan.after[1] },
        }
      : { sql: '', bindings: none }
    // The floor is pinned even when fewer than `size` rows match: every later page is bounded.
    const floorCols = bounded
      ? `(select to_json(published_at) #>> '{}' from w order by published_at, id limit 1) as floor_at,
         (select id from w order by published_at, id limit 1) as floor_id`
      : ':floorAt::text as floor_at, :floorId::uuid as floor_id'
    const inner: Sql = {
      sql: `with w as materialized (
              select l.id, l.published_at, ${spec.key.sql} as rank from listings l
              where ${where.sql}${pinned.sql}
              order by l.published_at desc, l.id desc${bounded ? ` limit ${size}` : ''}
            )
            select w.id, w.rank as cursor_key, ${floorCols}
            from w${keyset.sql} order by w.rank desc, w.id desc limit :pageSize`,
      bindings: {
        ...spec.key.bindings,
        ...where.bindings,
        ...pinned.bindings,
        ...(bounded ? none : floor),
        ...keyset.bindings,
        ...pageSize,
      },
    }
    return outer(inner)
  }

  const keyset = plan.after
    ? {
        sql: ` and (${spec.key.sql}, l.id) ${op} (:afterKey::${spec.cast}, :afterId::uuid)`,
        bindings: { ...spec.key.bindings, afterKey: plan.after[0], afterId: plan.after[1] },
      }
    : { sql: '', bindings: none }
  return outer({
    sql: `select l.id, ${spec.cursorKey.sql} as cursor_key, null::text as floor_at, null::uuid as floor_id from listings l where ${where.sql}${keyset.sql} order by ${order} limit :pageSize`,
    bindings: { ...spec.cursorKey.bindings, ...where.bindings, ...keyset.bindings, ...spec.key.bindings, ...pageSize },
  })
}

/**
 * Distance candidates: a GiST nearest-neighbour scan returns rows in distance order, but
 * PostgreSQL cannot add the `id` tie-breaker to it without sorting every row. So the scan
 * fetches a window of the nearest rows at or beyond the cursor's distance, ordered by
 * distance only; distanceIds() orders them by (distance, id) and widens the window when a
 * tie straddles its edge.
 */
export function distanceCandidatesSql(plan: SearchPlan, window: number): Sql {
  const spec = sortSpec({ ...plan, sort: 'distance' })
  const where = whereOf(plan)
  const from = plan.after
    ? { sql: ` and ${spec.key.sql} >= :afterKey::float8`, bindings: { ...spec.key.bindings, afterKey: plan.after[0] } }
    : { sql: '', bindings: none }
  return {
    sql: `select l.id, ${spec.key.sql} as k from listings l where ${where.sql}${from.sql} order by ${spec.key.sql} limit :candidates`,
    bindings: { ...spec.key.bindings, ...where.bindings, ...from.bindings, candidates: window },
  }
}

type Candidate = { id: string; k: number }

/** The page's (distance, id) keys in keyset order, exact even when many rows share a distance. */
async function distanceIds(db: Db, plan: SearchPlan, reads: ReadPool | null): Promise<Candidate[]> {
  const want = plan.limit + 1
  const after = plan.after ? { k: Number(plan.after[0]), id: String(plan.after[1]).toLowerCase() } : undefined
  for (let window = want + 16; ; window *= 4) {
    const { sql, bindings } = distanceCandidatesSql(plan, window)
    const rows = await hotQuery<Candidate>(db, sql, bindings, { prepared: false, reads })
    const exhausted = rows.length < window
    const edge = rows[rows.length - 1]?.k
    // Rows at the window's last distance may be only some of that tie: they wait for a wider window.
    const usable = rows
      .filter((r) => exhausted || r.k < edge!)
      .filter((r) => !after || r.k > after.k || (r.k === after.k && r.id > after.id))
      .sort((a, b) => a.k - b.k || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    if (exhausted || usable.length >= want || window > 100_000) return usable.slice(0, want)
  }
}

/**
 * Whether a radius is dense enough that a sort other than distance should walk its own index
 * and test the distance per row, rather than collect the circle through the GiST index and
 * sort it. PostgreSQL estimates every cube `@>` at 0.1% of the table, so left alone it always
 * picks the GiST bitmap, which costs a heap visit per listing in the circle (0.5 s for
 * central Lagos at 1M listings). Walking the sort index reads about limit × N / D rows for D
 * listings in the circle out of N; the bitmap about D: they cost the same at D = √(limit × N).
 * D and N come from the planner's own estimates (column histograms of lat and lng for the
 * circle's bounding box), asked with one EXPLAIN: no row is read.
 */
export async function radiusIsDense(
  db: Db,
  origin: { lat: number; lng: number },
  radiusKm: number,
  limit: number,
): Promise<boolean> {
  const dLat = radiusKm / 111.32
  const dLng = radiusKm / (111.32 * Math.max(0.01, Math.cos((origin.lat * Math.PI) / 180)))
  const { rows } = await db.raw<{ rows: { 'QUERY PLAN': [{ Plan: { Plans?: { 'Plan Rows': number }[] } }] }[] }>(
    `explain (format json)
     select 1 from listings l where ${listingOnSaleSql('l')} and l.lat between :latMin and :latMax and l.lng between :lngMin and :lngMax
     union all
     select 1 from listings l where ${listingOnSaleSql('l')}`,
    { latMin: origin.lat - dLat, latMax: origin.lat + dLat, lngMin: origin.lng - dLng, lngMax: origin.lng + dLng },
  )
  const [box, all] = (rows[0]?.['QUERY PLAN'][0].Plan.Plans ?? []).map((p) => p['Plan Rows'])
  if (box === undefined || all === undefined) return false
  return box >= Math.sqrt((limit + 1) * all)
}

type PageRow = CardRow & { cursor_key: string | number; floor_at?: string | null; floor_id?: string | null }

/** One page's statements; with `reads` (and outside a transaction) on the read pool. */
async function runPageOn(db: Db, plan: SearchPlan, reads: ReadPool | null = null): Promise<PageRow[]> {
  if (plan.sort !== 'distance') {
    const { sql, bindings } = pageSql(db, plan)
    // A browse page (no text, no circle) walks one sort index whatever the values: prepared,
    // it is planned once per connection (planning cost twice running it: 0.65 vs 0.35 ms at 1M).
    // Text and radius searches stay unnamed, each planned for its own values.
    const browse = plan.q === undefined && plan.origin === undefined && plan.mode === 'exact'
    return hotQuery<PageRow>(db, sql, bindings, { prepared: browse, reads })
  }
  const keys = await distanceIds(db, plan, reads)
  if (keys.length === 0) return []
  const cols = cardSelectOf(db, plan)
  return hotQuery<PageRow>(
    db,
    `select ${cols.sql}, p.k as cursor_key
     from unnest(:ids::uuid[], :distances::float8[]) with ordinality as p(id, k, ord)
     join listings l on l.id = p.id join users u on u.id = l.seller_id
     order by p.ord`,
    { ...cols.bindings, ids: keys.map((c) => c.id), distances: keys.map((c) => c.k) },
    { prepared: false, reads },
  )
}

/** The word of a query token that correction may replace: lowercase letters only, 3 or more. */
function correctable(token: string): string | null {
  const word = token.toLowerCase().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')
  return /^\p{L}{3,}$/u.test(word) ? word : null
}

/**
 * The statement that corrects words: for each word that is not a title word (listing_words,
 * migration 20261212000100), its nearest title word by trigram distance (a KNN scan of the
 * GiST index), if similar enough; ties go to the word more listings use, then alphabetical.
 */
export function correctionSql(words: string[]): Sql {
  return {
    sql: `select q.word, c.word as correction
          from unnest(:words::text[]) as q(word)
          cross join lateral (
            select k.word from (
              select w.word, w.ndoc, w.word <-> q.word as distance from listing_words w
              order by w.word <-> q.word limit ${CORRECTION_CANDIDATES}
            ) k
            where k.distance <= 1 - :threshold::float8
            order by k.distance, k.ndoc desc, k.word limit 1
          ) c
          where not exists (select 1 from listing_words x where x.word = q.word)`,
    bindings: { words, threshold: CORRECTION_THRESHOLD },
  }
}

/**
 * The query with each misspelt word replaced by its nearest title word (see correctionSql),
 * or null when no word changed (every word is a title word, or none has a near neighbour).
 * Only plain words are corrected: numbers, model codes (s21) and hyphenated words stay.
 */
export async function correctQuery(db: Db, q: string, reads: ReadPool | null = null): Promise<string | null> {
  const tokens = q.split(/\s+/).filter((t) => t !== '')
  const words = [...new Set(tokens.map(correctable).filter((w): w is string => w !== null))]
  if (words.length === 0) return null
  const { sql, bindings } = correctionSql(words)
  const rows = await hotQuery<{ word: string; correction: string }>(db, sql, bindings, { prepared: true, reads })
  if (rows.length === 0) return null
  const fix = new Map(rows.map((r) => [r.word, r.correction]))
  return tokens
    .map((t) => {
      const w = correctable(t)
      return w !== null ? (fix.get(w) ?? t) : t
    })
    .join(' ')
}

/**
 * Listing search (GET /v1/listings): full text (websearch syntax, English stemming, title
 * over description), typo-tolerant fallback, filters, five sorts, keyset cursors that stay
 * stable while listings are inserted.
 */
export function createSearchService({
  blobs,
  relevanceWindow,
  reads = null,
}: {
  blobs: BlobStore
  relevanceWindow?: number
  /** The read pool for search pages and query correction (PostgreSQL). */
  reads?: ReadPool | null
}) {
  return {
    async search(
      ctx: Ctx,
      query: SearchQuery,
    ): Promise<{ items: ListingCard[]; nextCursor: string | null; searchMode?: SearchMode; correctedQuery?: string }> {
      const q = query.q?.trim() || undefined
      const hasOrigin = query.lat !== undefined || query.lng !== undefined
      if ((query.lat === undefined) !== (query.lng === undefined))
        throw invalidField('/querystring/lat', 'lat and lng go together')
      if (query.radiusKm !== undefined && !hasOrigin) throw invalidField('/querystring/radiusKm', 'needs lat and lng')
      if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice)
        throw invalidField('/querystring/minPrice', 'is above maxPrice')
      const sort: SearchSort = query.sort ?? (q ? 'relevance' : 'newest')
      if (sort === 'relevance' && !q) throw invalidField('/querystring/sort', 'relevance needs q')
      if (sort === 'distance' && !hasOrigin) throw invalidField('/querystring/sort', 'distance needs lat and lng')
      const limit = query.limit ?? 20
      const keyKind: KeyKind =
        sort === 'newest' ? 'timestamp' : sort === 'price_asc' || sort === 'price_desc' ? 'int' : 'number'
      // The cursor is signed for this very search (sort and filters): another search's cursor,
      // or one without the relevance window's floor, would rank every match.
      const scope = `search:${JSON.stringify([
        sort,
        q ?? null,
        query.categoryId ?? null,
        query.condition ? [...new Set(query.condition)].sort() : null,
        query.type ?? null,
        query.minPrice ?? null,
        query.maxPrice ?? null,
        query.sellerId ?? null,
        query.lat ?? null,
        query.lng ?? null,
        query.radiusKm ?? null,
      ])}`
      // The last value is the corrected query of a fuzzy search: later pages match what page 1 did.
      const cursor = decodeKeyset(
        query.cursor,
        ['string', 'string', keyKind, 'uuid', 'timestamp?', 'uuid?', 'text?'],
        scope,
      ) as [string, string, string | number, string, string | null, string | null, string | null] | undefined
      if (cursor && (cursor[0] !== sort || !['exact', 'fuzzy'].includes(cursor[1])))
        throw invalidField('/querystring/cursor', 'does not belong to this search')
      if (cursor && (cursor[1] === 'fuzzy') !== (q !== undefined && cursor[6] !== null))
        throw invalidField('/querystring/cursor', 'does not belong to this search')
      if (cursor && sort === 'relevance' && !(cursor[4] && cursor[5]))
        throw invalidField('/querystring/cursor', 'does not belong to this search')

      let category: SearchPlan['category']
      let categoryIds: string[] | undefined
      if (query.categoryId) {
        const subtree = await categorySubtree(ctx, query.categoryId)
        if (!subtree) return { items: [], nextCursor: null, ...(q ? { searchMode: 'exact' as const } : {}) }
        if (subtree.depth <= CATEGORY_LEVELS) category = { id: query.categoryId, depth: subtree.depth }
        else categoryIds = subtree.ids
      }
      const plan: SearchPlan = {
        q,
        category,
        categoryIds,
        condition: query.condition ? [...new Set(query.condition)] : undefined,
        type: query.type,
        minPrice: query.minPrice,
        maxPrice: query.maxPrice,
        sellerId: query.sellerId,
        origin: hasOrigin ? { lat: query.lat!, lng: query.lng! } : undefined,
        radiusKm: query.radiusKm,
        sort,
        limit,
        mode: (cursor?.[1] as SearchMode | undefined) ?? 'exact',
        corrected: cursor?.[6] ?? undefined,
        after: cursor ? [cursor[2], cursor[3]] : undefined,
        floor: cursor?.[4] && cursor[5] ? [cursor[4], cursor[5]] : undefined,
        viewerId: ctx.actor?.id,
        window: relevanceWindow,
      }

      if (plan.origin && plan.radiusKm !== undefined && sort !== 'distance')
        plan.geoIndex = !(await radiusIsDense(ctx.db, plan.origin, plan.radiusKm, limit))
      let rows = await runPageOn(ctx.db, plan, reads)
      // Few exact matches: correct the misspelt words and match the query or its correction.
      if (q && !cursor && plan.mode === 'exact' && rows.length < Math.min(limit, FUZZY_BELOW) && !usesOperators(q)) {
        const corrected = await correctQuery(ctx.db, q, reads)
        if (corrected !== null) {
          const fuzzy = await runPageOn(ctx.db, { ...plan, mode: 'fuzzy', corrected }, reads)
          if (fuzzy.length > rows.length) {
            plan.mode = 'fuzzy'
            plan.corrected = corrected
            rows = fuzzy
          }
        }
      }
      const items = rows.slice(0, limit)
      const last = items[items.length - 1]
      const floor = plan.floor ?? (last?.floor_at && last.floor_id ? [last.floor_at, last.floor_id] : [null, null])
      const nextCursor =
        rows.length > limit && last
          ? encodeCursor([sort, plan.mode, last.cursor_key, last.id, ...floor, plan.corrected ?? null], scope)
          : null
      return {
        items: items.map((r) => toCard(r, blobs)),
        nextCursor,
        ...(q ? { searchMode: plan.mode } : {}),
        ...(plan.mode === 'fuzzy' && plan.corrected !== undefined ? { correctedQuery: plan.corrected } : {}),
      }
    },
  }
}

export type SearchService = ReturnType<typeof createSearchService>
