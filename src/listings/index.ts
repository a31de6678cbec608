/** The public surface of src/listings: other folders import from here, never from its files. */

/** The feature's plugin: listing, photo, search and report routes; decorates `app.catalogue`. */
export { listingsFeature } from './listings.feature.js'
export type { Catalogue } from './listings.feature.js'

/** The rules other features state in their own checks and SQL: availability, visibility. */
export {
  availableQuantitySql,
  isListingOnSale,
  isListingPublic,
  isListingVisibleTo,
  isListingWithdrawn,
  listingOnSaleSql,
  listingPublicSql,
  listingVisibleSql,
  liveReservationSql,
  mayStillSell,
  mayViewListing,
} from './availability.js'

/** Lookups and writes on listings and reports, in the caller's database handle or transaction. */
export { findListing } from './listings.service.js'
export type { ListingRecord, ListingsService } from './listings.service.js'
export { recordSales, returnSales } from './stock.js'
/** A ban or an unban of a seller takes their listings off every public path or puts them back. */
export { setSellerBanned } from './listings.service.js'
export type { UnitsByListing } from './stock.js'
export { actionOpenReports, dismissReport, lockReport } from './reports.service.js'
export type { ReportResolution } from './reports.service.js'

/** Listing cards inside other features' pages (wishlists), and their keyset cursors. */
export { cardColumns, toCard } from './listings.sql.js'
export type { CardRow } from './listings.sql.js'
export { decodeKeyset } from './keyset.js'

/** Schemas other features' routes reuse. */
export { ListingCard, Location, LocationInput, SellerSummary, Text } from './listings.schemas.js'

/** The error codes of listings, and the one shape of a field-level 400. */
export { ListingErrors, invalidField } from './listings.errors.js'

/** The tables this feature owns. */
export type { ListingImageRow, ListingReportRow, ListingRow, StoredVariant } from './listings.tables.js'
