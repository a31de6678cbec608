import type { Db, Knex } from '../db/index.js'
import type { BlobStore } from '../images/index.js'
import { availableQuantitySql } from './availability.js'
import type { Bindings } from '../db/index.js'
import type { Listing, ListingCard } from './listings.schemas.js'
import type { ListingImageRow, ListingRow } from './listings.tables.js'

/** A photo as the card and detail selects build it (jsonb_build_object of a listing_images row). */
export type ImageJson = Pick<ListingImageRow, 'id' | 'position' | 'width' | 'height' | 'variants'>

/** A row of the card select list (cardSelect / cardColumns). */
export type CardRow = Pick<
  ListingRow,
  | 'id'
  | 'seller_id'
  | 'title'
  | 'type'
  | 'price'
  | 'currency'
  | 'condition'
  | 'category_id'
  | 'status'
  | 'quantity'
  | 'city'
  | 'state'
  | 'lat'
  | 'lng'
  | 'published_at'
  | 'created_at'
> & {
  /** users.name and users.avatar_url of the seller (accounts' table, joined). */
  seller_name: string
  seller_avatar: string | null
  available_quantity: number
  cover: ImageJson | null
  is_favourite?: boolean
  distance_km?: number | null
}

/** A row of the full listing view (detailSelect). */
export type DetailRow = Omit<CardRow, 'cover' | 'distance_km'> &
  Pick<ListingRow, 'description' | 'sold_quantity' | 'updated_at' | 'seller_banned'> & { images: ImageJson[] }

const IMAGE_JSON =
  "jsonb_build_object('id', i.id, 'position', i.position, 'width', i.width, 'height', i.height, 'variants', i.variants)"

/** A piece of SQL text with its named bindings (`:name`); pieces combine by merging their bindings. */
export type Sql = { sql: string; bindings: Bindings }

/** The SQL text of availableQuantitySql for alias `l`, rendered once per Knex client. */
const availableText = new WeakMap<object, string>()
function availableSql(db: Db): string {
  let sql = availableText.get(db.client)
  if (sql === undefined) {
    const rendered = availableQuantitySql(db, 'l').toSQL()
    if (rendered.bindings.length > 0) throw new Error('availableQuantitySql is expected to need no bindings')
    sql = rendered.sql
    availableText.set(db.client, sql)
  }
  return sql
}

/** Columns both views share, over `listings l join users u on u.id = l.seller_id`. */
function commonSql(db: Db, viewerId?: string): Sql {
  const sql = [
    'l.id, l.seller_id, u.name as seller_name, u.avatar_url as seller_avatar, l.title, l.type, l.price, l.currency',
    'l.condition, l.category_id, l.status, l.quantity, l.city, l.state, l.lat, l.lng, l.published_at, l.created_at',
    `${availableSql(db)} as available_quantity`,
    ...(viewerId
      ? ['exists (select 1 from wishlists w where w.user_id = :viewerId and w.listing_id = l.id) as is_favourite']
      : []),
  ].join(', ')
  return { sql, bindings: viewerId ? { viewerId } : {} }
}

/**
 * The select list of a listing card (first photo only; distance when an origin is given).
 * Plain SQL text with named bindings (`viewerId`, `originLat`, `originLng`): the hot read
 * paths do not build it through Knex's query builder.
 */
export function cardSelect(db: Db, opts: { viewerId?: string; origin?: { lat: number; lng: number } } = {}): Sql {
  const common = commonSql(db, opts.viewerId)
  const parts = [
    common.sql,
    `(select ${IMAGE_JSON} from listing_images i where i.listing_id = l.id order by i.position limit 1) as cover`,
  ]
  const bindings: Bindings = { ...common.bindings }
  if (opts.origin) {
    parts.push('earth_distance(ll_to_earth(:originLat, :originLng), ll_to_earth(l.lat, l.lng)) / 1000.0 as distance_km')
    bindings.originLat = opts.origin.lat
    bindings.originLng = opts.origin.lng
  }
  return { sql: parts.join(', '), bindings }
}

/** The select list of the full listing view: every photo in order, description, sold count. */
export function detailSelect(db: Db, viewerId?: string): Sql {
  const common = commonSql(db, viewerId)
  return {
    sql: `${common.sql}, l.description, l.sold_quantity, l.updated_at, l.seller_banned,
          (select coalesce(jsonb_agg(${IMAGE_JSON} order by i.position), '[]'::jsonb) from listing_images i where i.listing_id = l.id) as images`,
    bindings: common.bindings,
  }
}

/** The card select list as one Knex column (for builder queries: my listings, wishlist). */
export function cardColumns(db: Db, opts: { viewerId?: string; origin?: { lat: number; lng: number } } = {}): Knex.Raw {
  const { sql, bindings } = cardSelect(db, opts)
  return db.raw(sql, bindings)
}

/** The full listing of one id, as the viewer sees it (no visibility check). */
export function detailSql(db: Db, id: string, viewerId?: string): Sql {
  const select = detailSelect(db, viewerId)
  return {
    sql: `select ${select.sql} from listings l join users u on u.id = l.seller_id where l.id = :id`,
    bindings: { ...select.bindings, id },
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)

/** A photo as clients see it (absolute URLs). */
export function toImage(img: ImageJson, blobs: BlobStore) {
  const v = img.variants
  return {
    id: img.id,
    url: blobs.absoluteUrl(v.large.url),
    variants: {
      thumb: blobs.absoluteUrl(v.thumb.url),
      medium: blobs.absoluteUrl(v.medium.url),
      large: blobs.absoluteUrl(v.large.url),
    },
    width: img.width,
    height: img.height,
    position: img.position,
  }
}

function base(r: CardRow | DetailRow) {
  return {
    id: r.id,
    sellerId: r.seller_id,
    seller: { id: r.seller_id, name: r.seller_name, avatarUrl: r.seller_avatar },
    title: r.title,
    type: r.type,
    price: r.price,
    currency: r.currency,
    condition: r.condition,
    categoryId: r.category_id,
    status: r.status,
    quantity: r.quantity,
    availableQuantity: Math.max(0, r.available_quantity),
    location:
      r.city === null && r.state === null && r.lat === null
        ? null
        : { city: r.city, state: r.state, lat: r.lat, lng: r.lng },
    ...(r.is_favourite !== undefined ? { isFavourite: r.is_favourite } : {}),
    publishedAt: iso(r.published_at),
    createdAt: r.created_at.toISOString(),
  }
}

/** A listing card as clients see it. */
export function toCard(r: CardRow, blobs: BlobStore): ListingCard {
  return {
    ...base(r),
    image: r.cover ? toImage(r.cover, blobs) : null,
    ...(r.distance_km !== undefined && r.distance_km !== null
      ? { distanceKm: Math.round(r.distance_km * 1000) / 1000 }
      : {}),
  }
}

/** The full listing as clients see it. */
export function toListing(r: DetailRow, blobs: BlobStore): Listing {
  return {
    ...base(r),
    description: r.description,
    soldQuantity: r.sold_quantity,
    images: r.images.map((i) => toImage(i, blobs)),
    updatedAt: r.updated_at.toISOString(),
  }
}
