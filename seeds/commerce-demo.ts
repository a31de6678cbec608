import type { Knex } from 'knex'

/** Demo data for `npm start`: a coupon to try at checkout. */
export async function seedCommerceDemo(trx: Knex.Transaction, users: { id: string; email: string }[]): Promise<void> {
  const admin = users.find((u) => u.email.startsWith('admin@'))
  await trx('coupons')
    .insert({
      code: 'WELCOME10',
      type: 'percent',
      value: 10,
      max_discount: 5_000_00,
      per_user_limit: 1,
      active: true,
      created_by: admin?.id ?? null,
    })
    .onConflict()
    .ignore()
}
