import { loadConfig } from '../config.js'
import { createDb } from '../db/index.js'
import { migrateLatest, migrationConfig } from '../db/index.js'
import { seedCategories } from '../../seeds/categories.js'

const db = await createDb(loadConfig())
try {
  if (process.argv[2] === 'rollback') {
    const [, names] = (await db.migrate.rollback(migrationConfig)) as [number, string[]]
    console.log(names.length ? `rolled back: ${names.join(', ')}` : 'nothing to roll back')
  } else {
    const names = await migrateLatest(db)
    await seedCategories(db)
    console.log(names.length ? `migrated: ${names.join(', ')}` : 'already up to date')
  }
} finally {
  await db.destroy()
}
