/**
 * Runs once before the test files (tap's `before`): builds the migrated template database
 * that each test file clones. Safe when several runs start at once.
 */
import knexFactory from 'knex'
import { migrateLatest } from '../../src/db/migrate.js'
import { seedCategories } from '../../seeds/categories.js'
import { databaseUrl, templateName, withAdmin } from '../helpers/pg.js'

const template = templateName()
await withAdmin(async (admin) => {
  // One builder at a time across concurrent runs.
  await admin.query('select pg_advisory_lock(7042999)')
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [template])
    if (rowCount) return
    const building = `${template}_building`
    await admin.query(`drop database if exists ${building} with (force)`)
    await admin.query(`create database ${building}`)
    const db = knexFactory({ client: 'pg', connection: databaseUrl(building), pool: { min: 0, max: 3 } })
    try {
      await migrateLatest(db)
      await seedCategories(db)
    } finally {
      await db.destroy()
    }
    await admin.query(`alter database ${building} rename to ${template}`)
    await admin.query(`alter database ${template} is_template true`)
  } finally {
    await admin.query('select pg_advisory_unlock(7042999)')
  }
})
