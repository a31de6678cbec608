import type { Db, Knex } from '../db/index.js'
import type { BlobStore } from '../images/index.js'
import { availableQuantitySql } from './availability.js'
import type { Condition, Listing, ListingCard, ListingStatus, ListingType } from './listings.schemas.js'

/** One stored variant of a photo (listing_images.variants[name]). */
export type StoredVariant = { pathname: string; url: string; width: number; height: number; bytes: number }
export type ImageJson = {
  id: string
  position: number
  width: number
  height: number
  variants: Record<'thumb' | 'medium' | 'large', StoredVariant>
}

export type CardRow = {
  id: string
  seller_id: string
  seller_name: string
  seller_avatar: string | null
  title: string
  type: ListingType
  price: number
  currency: string
  condition: Condition
  category_id: string
  status: ListingStatus
  quantity: number
  available_quantity: number
  city: string | null
  state: string | null
  lat: number | null
  lng: number | null
  published_at: Date | null
  created_at: Date
  cover: ImageJson | null
  is_favourite?: boolean
  distance_km?: number | null
}

export type DetailRow = Omit<CardRow, 'cover'> & {
  description: string
  sold_quantity: number
  updated_at: Date
  images: ImageJson[]
}

const IMAGE_JSON =
  "jsonb_build_object('id', i.id, 'position', i.position, 'width', i.width, 'height', i.height, 'variants', i.variants)"

export type Sql = { sql: string; bindings: unknown[] }

/** The SQL text of availableQuantitySql for alias `l`, rendered once per Knex client. */
const availableText = new WeakMap<object, string>()
function availableSql(db: Db): string {
  let sql = availableText.get(db.client as object)
  if (sql === undefined) {
    const rendered = availableQuantitySql(db, 'l').toSQL()
    if (rendered.bindings.length > 0) throw new Error('availableQuantitySql is expected to need no bindings')
    sql = rendered.sql
    availableText.set(db.client as object, sql)
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
      ? ['exists (select 1 from wishlists w where w.user_id = ? and w.listing_id = l.id) as is_favourite']
      : []),
  ].join(', ')
  return { sql, bindings: viewerId ? [viewerId] : [] }
}

/**
 * The select list of a listing card (first photo only; distance when an origin is given).
 * Plain SQL text with `?` bindings: the hot read paths do not build it through Knex.
 */
export function cardSelect(db: Db, opts: { viewerId?: string; origin?: { lat: number; lng: number } } = {}): Sql {
  const common = commonSql(db, opts.viewerId)
  const parts = [
    common.sql,
    `(select ${IMAGE_JSON} from listing_images i where i.listing_id = l.id order by i.position limit 1) as cover`,
  ]
  const bindings = [...common.bindings]
  if (opts.origin) {
    parts.push('earth_distance(ll_to_earth(?, ?), ll_to_earth(l.lat, l.lng)) / 1000.0 as distance_km')
    bindings.push(opts.origin.lat, opts.origin.lng)
  }
  return { sql: parts.join(', '), bindings }
}

/** The select list of the full listing view: every photo in order, description, sold count. */
export function detailSelect(db: Db, viewerId?: string): Sql {
  const common = commonSql(db, viewerId)
  return {
    sql: `${common.sql}, l.description, l.sold_quantity, l.updated_at,
          (select coalesce(jsonb_agg(${IMAGE_JSON} order by i.position), '[]'::jsonb) from listing_images i where i.listing_id = l.id) as images`,
    bindings: common.bindings,
  }
}

/** The card select list as one Knex column (for builder queries: my listings, wishlist). */
export function cardColumns(db: Db, opts: { viewerId?: string; origin?: { lat: number; lng: number } } = {}): Knex.Raw {
  const { sql, bindings } = cardSelect(db, opts)
  return db.raw(sql, bindings as Knex.RawBinding[])
}

/** The full listing of one id, as the viewer sees it (no visibility check). */
export function detailSql(db: Db, id: string, viewerId?: string): Sql {
  const select = detailSelect(db, viewerId)
  return {
    sql: `select ${select.sql} from listings l join users u on u.id = l.seller_id where l.id = ?`,
    bindings: [...select.bindings, id],
  }
}

const iso = (d: Date | null) => (d ? d.toISOString() : null)

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

export function toCard(r: CardRow, blobs: BlobStore): ListingCard {
  return {
    ...base(r),
    image: r.cover ? toImage(r.cover, blobs) : null,
    ...(r.distance_km !== undefined && r.distance_km !== null
      ? { distanceKm: Math.round(r.distance_km * 1000) / 1000 }
      : {}),
  }
}

export function toListing(r: DetailRow, blobs: BlobStore): Listing {
  return {
    ...base(r),
    description: r.description,
    soldQuantity: r.sold_quantity,
    images: r.images.map((i) => toImage(i, blobs)),
    updatedAt: r.updated_at.toISOString(),
  }
}
