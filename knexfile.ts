import { loadConfig } from './src/config.js'
import { migrationConfig } from './src/db/migrate.js'

/** For tools that expect a knexfile; the app itself opens the database in src/db. */
const config = loadConfig()
export default {
  client: 'pg',
  connection: config.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/oja',
  migrations: migrationConfig,
}
