/**
 * `npm run seed [-- --listings N]`: migrations, the category tree, demo data on an empty
 * database, and optionally N generated listings for benchmarks (seeds/bulk-listings.ts).
 */
import pino from 'pino'
import { loadConfig } from '../config.js'
import { createDb } from '../db/index.js'
import { migrateLatest } from '../db/index.js'
import { seedCategories } from '../../seeds/categories.js'
import { seedDemo } from '../../seeds/demo.js'
import { seedBulkListings } from '../../seeds/bulk-listings.js'

function flag(name: string): string | undefined {
  const args = process.argv.slice(2)
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (i < 0) return undefined
  const arg = args[i]!
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[i + 1]
}

const listingsFlag = flag('listings')
const listings = listingsFlag === undefined ? 0 : Number(listingsFlag.replace(/_/g, ''))
if (!Number.isInteger(listings) || listings < 0) {
  console.error(`--listings must be a whole number (got ${listingsFlag})`)
  process.exit(1)
}

const db = await createDb(loadConfig())
try {
  await migrateLatest(db)
  await seedCategories(db)
  await seedDemo(db, pino())
  if (listings > 0) {
    const started = Date.now()
    await seedBulkListings(db, listings, { log: (msg) => console.log(`[seed] ${msg}`) })
    console.log(`[seed] ${listings} listings in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  }
  console.log('seeded')
} finally {
  await db.destroy()
}
