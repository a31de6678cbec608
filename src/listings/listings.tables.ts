import type { Table } from '../db/index.js'
import type { Condition, ListingStatus, ListingType } from './listings.schemas.js'

/** A listing (owned by listings; orders change its sold units through recordSales/returnSales). */
export type ListingRow = {
  id: string
  seller_id: string
  title: string
  description: string
  type: ListingType
  /** Minor units (kobo); bigint, parsed to a number (src/db). */
  price: number
  currency: string
  condition: Condition
  category_id: string
  quantity: number
  sold_quantity: number
  status: ListingStatus
  city: string | null
  state: string | null
  lat: number | null
  lng: number | null
  removed_reason: string | null
  /** The seller is banned: the listing is off every public path until the unban (setSellerBanned). */
  seller_banned: boolean
  published_at: Date | null
  created_at: Date
  updated_at: Date
  /** Generated from title and description: never written. */
  search_vector: string
}

/** One stored variant of a photo (listing_images.variants[name]). */
export type StoredVariant = { pathname: string; url: string; width: number; height: number; bytes: number }

/** A listing photo; `variants` holds the three stored sizes. */
export type ListingImageRow = {
  id: string
  listing_id: string
  position: number
  variants: Record<'thumb' | 'medium' | 'large', StoredVariant>
  width: number
  height: number
  created_at: Date
}

export type ReportReason =
  'prohibited' | 'scam' | 'counterfeit' | 'offensive' | 'wrong_category' | 'duplicate' | 'other'
export type ReportStatus = 'open' | 'dismissed' | 'actioned'

/** A user's report of a listing; trust's moderators resolve it through this feature's functions. */
export type ListingReportRow = {
  id: string
  listing_id: string
  reporter_id: string
  reason: ReportReason
  detail: string | null
  status: ReportStatus
  resolved_by: string | null
  resolved_at: Date | null
  resolution_note: string | null
  created_at: Date
}

declare module 'knex/types/tables.js' {
  interface Tables {
    listings: Table<
      ListingRow,
      | 'id'
      | 'description'
      | 'currency'
      | 'quantity'
      | 'sold_quantity'
      | 'status'
      | 'city'
      | 'state'
      | 'lat'
      | 'lng'
      | 'removed_reason'
      | 'seller_banned'
      | 'published_at'
      | 'created_at'
      | 'updated_at'
      | 'search_vector'
    >
    listing_images: Table<ListingImageRow, 'created_at'>
    listing_reports: Table<
      ListingReportRow,
      'id' | 'detail' | 'status' | 'resolved_by' | 'resolved_at' | 'resolution_note' | 'created_at'
    >
  }
}
