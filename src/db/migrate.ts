import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Knex } from 'knex'
import { isEmbedded } from './index.js'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))
/** Key of the advisory lock that serialises migrations between nodes starting together. */
const MIGRATION_LOCK_KEY = 7_042_001

type Migration = { up: (knex: Knex) => Promise<void>; down?: (knex: Knex) => Promise<void> }

/** Loads the TypeScript migrations in `migrations/` by name order. */
class DirectoryMigrationSource implements Knex.MigrationSource<string> {
  async getMigrations(): Promise<string[]> {
    return readdirSync(MIGRATIONS_DIR)
      .filter((f) => /^\d.*\.ts$/.test(f))
      .sort()
  }
  getMigrationName(name: string): string {
    return name
  }
  async getMigration(name: string): Promise<Knex.Migration> {
    const mod = (await import(pathToFileURL(path.join(MIGRATIONS_DIR, name)).href)) as Migration
    return { up: mod.up, down: mod.down ?? (async () => {}) }
  }
}

export const migrationConfig: Knex.MigratorConfig = {
  migrationSource: new DirectoryMigrationSource(),
  tableName: 'knex_migrations',
}

/**
 * Runs pending migrations. Several nodes may call this at once: a PostgreSQL advisory lock,
 * held on one dedicated connection, lets one migrate while the others wait and then find
 * nothing to do.
 */
export async function migrateLatest(db: Knex): Promise<string[]> {
  if (isEmbedded(db)) {
    const [, names] = (await db.migrate.latest(migrationConfig)) as [number, string[]]
    return names
  }
  const conn = await db.client.acquireConnection()
  try {
    await db.raw('select pg_advisory_lock(?)', [MIGRATION_LOCK_KEY]).connection(conn)
    try {
      const [, names] = (await db.migrate.latest(migrationConfig)) as [number, string[]]
      return names
    } finally {
      await db.raw('select pg_advisory_unlock(?)', [MIGRATION_LOCK_KEY]).connection(conn)
    }
  } finally {
    await db.client.releaseConnection(conn)
  }
}
