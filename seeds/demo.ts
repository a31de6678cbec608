import { hash } from '@node-rs/argon2'
import type { FastifyBaseLogger } from 'fastify'
import type { Knex } from 'knex'
import { seedCatalogueDemo } from './catalogue-demo.js'
import { seedChatDemo } from './chat-demo.js'
import { seedCommerceDemo } from './commerce-demo.js'
import { seedMoneyDemo } from './money-demo.js'

export const DEMO_PASSWORD = 'demo-password'
export const DEMO_USERS = [
  { email: 'ada@demo.oja', name: 'Ada Okafor', location: 'Lagos', bio: 'Moving abroad; everything must go.' },
  {
    email: 'tunde@demo.oja',
    name: 'Tunde Bakare',
    location: 'Ibadan',
    bio: 'Collector of good second-hand furniture.',
  },
  { email: 'admin@demo.oja', name: 'Oja Admin', location: 'Abuja', bio: null, role: 'admin' },
]

export type DemoSeeder = (trx: Knex.Transaction, users: { id: string; email: string }[]) => Promise<void>

/**
 * The features' demo data, in the order it is loaded (each may build on the ones before it:
 * the chat demo talks about a catalogue listing).
 */
export const DEMO_SEEDERS: readonly DemoSeeder[] = [seedCatalogueDemo, seedChatDemo, seedCommerceDemo, seedMoneyDemo]

/**
 * Demo data on an empty database: users (password `demo-password`), then each of `seeders`
 * in order. Runs only when there are no users yet.
 */
export async function seedDemo(
  knex: Knex,
  log: FastifyBaseLogger,
  seeders: readonly DemoSeeder[] = DEMO_SEEDERS,
): Promise<void> {
  const existing = await knex('users').count({ n: '*' }).first()
  if (Number(existing?.n ?? 0) > 0) return
  const passwordHash = await hash(DEMO_PASSWORD)
  await knex.transaction(async (trx) => {
    const users = (await trx('users')
      .insert(
        DEMO_USERS.map((u) => ({
          email: u.email,
          name: u.name,
          location: u.location,
          bio: u.bio,
          role: u.role ?? 'user',
          password_hash: passwordHash,
          email_verified_at: trx.fn.now(),
        })),
      )
      .returning(['id', 'email'])) as { id: string; email: string }[]
    for (const seeder of seeders) await seeder(trx, users)
  })
  log.info({ users: DEMO_USERS.map((u) => u.email), password: DEMO_PASSWORD }, 'demo data loaded')
}
