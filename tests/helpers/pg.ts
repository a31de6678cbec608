import { createHash, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

/** Where tests find PostgreSQL and Redis (real servers on loopback). */
export const PG_ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return url.toString()
}

/** The template's name follows the migrations' content, so a changed migration builds a new one. */
export function templateName(): string {
  const h = createHash('sha256')
  for (const dir of ['../../migrations/', '../../seeds/']) {
    const path = fileURLToPath(new URL(dir, import.meta.url))
    for (const f of readdirSync(path).sort()) h.update(f).update(readFileSync(path + f))
  }
  return `oja_tpl_${h.digest('hex').slice(0, 16)}`
}

export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Clones the migrated template into a fresh database for one test file. */
export async function createTestDatabase(): Promise<string> {
  const template = templateName()
  const name = `oja_t_${randomBytes(6).toString('hex')}`
  await withAdmin(async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`create database ${name} template ${template}`)
        return
      } catch (err) {
        // Another process may be cloning the template at this instant.
        if (attempt < 20 && /being accessed by other users/.test(String((err as Error).message))) {
          await new Promise((r) => setTimeout(r, 100 + Math.random() * 200))
          continue
        }
        throw err
      }
    }
  })
  return name
}

export async function dropTestDatabase(name: string): Promise<void> {
  await withAdmin((c) => c.query(`drop database if exists ${name} with (force)`))
}
