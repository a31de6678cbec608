import type { Knex } from 'knex'

/**
 * Demo chat on an empty embedded database: Tunde (who wants a chest freezer) asks Ada about
 * hers, she answers, and he makes an offer still waiting for her answer. Runs after the
 * catalogue's demo seeder; does nothing if that listing is not there.
 */
export async function seedChatDemo(trx: Knex.Transaction, users: { id: string; email: string }[]): Promise<void> {
  const ada = users.find((u) => u.email === 'ada@demo.oja')
  const tunde = users.find((u) => u.email === 'tunde@demo.oja')
  if (!ada || !tunde) return
  const freezer = (await trx('listings')
    .where({ seller_id: ada.id, status: 'active' })
    .whereILike('title', '%freezer%')
    .first('id', 'price')) as { id: string; price: number } | undefined
  if (!freezer) return
  const base = Date.now() - 3 * 3_600_000
  const at = (minutes: number) => new Date(Math.floor(base / 1000) * 1000 + minutes * 60_000)
  const [conversation] = (await trx('conversations')
    .insert({
      listing_id: freezer.id,
      buyer_id: tunde.id,
      seller_id: ada.id,
      created_at: at(0),
      last_activity_at: at(42),
      last_message_at: at(42),
    })
    .returning('id')) as { id: string }[]
  const [offer] = (await trx('offers')
    .insert({
      conversation_id: conversation!.id,
      listing_id: freezer.id,
      buyer_id: tunde.id,
      seller_id: ada.id,
      created_by: tunde.id,
      amount: 190_000_00,
      status: 'pending',
      created_at: at(42),
    })
    .returning('id')) as { id: string }[]
  await trx('messages').insert([
    {
      conversation_id: conversation!.id,
      sender_id: tunde.id,
      kind: 'text',
      body: 'Good afternoon! Is the chest freezer still available? I can come from Ibadan on Saturday.',
      created_at: at(0),
    },
    {
      conversation_id: conversation!.id,
      sender_id: ada.id,
      kind: 'text',
      body: 'Yes, it is. It keeps ice solid; you can test it when you come.',
      created_at: at(25),
    },
    {
      conversation_id: conversation!.id,
      sender_id: tunde.id,
      kind: 'offer',
      body: 'Offer: ₦190,000.00',
      offer_id: offer!.id,
      created_at: at(42),
    },
  ])
}
