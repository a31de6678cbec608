import { randomUUID } from 'node:crypto'
import type { Knex } from 'knex'
import { EventSpine, noopPublisher } from '../src/events/index.js'
import { createLedger, releaseMany } from '../src/ledger/index.js'

/**
 * Demo seller money for `npm start`: Ada sold Tunde a standing fan seven weeks ago (received,
 * released, ₦10,000 of it paid out to her bank), and a bookshelf five days ago (delivered
 * yesterday, still in escrow). Every kobo goes through the ledger as a real payment would, so
 * `GET /v1/me/balance` as ada@demo.oja shows pending, available and paid-out money, and the
 * ledger check is clean. The dates are older than the windows compared with Paystack (the
 * simulator starts empty); a live payout works once Ada sets a payout account.
 */
export async function seedMoneyDemo(trx: Knex.Transaction, users: { id: string; email: string }[]): Promise<void> {
  const ada = users.find((u) => u.email === 'ada@demo.oja')
  const tunde = users.find((u) => u.email === 'tunde@demo.oja')
  if (!ada || !tunde) return
  const ledger = createLedger({
    spine: new EventSpine(noopPublisher),
    rates: { feeBps: 500, vatBps: 750 },
    escrowReleaseDays: 3,
  })
  const tx = { db: trx }
  const category =
    (await trx('categories').where('slug', 'fans-heaters').first('id')) ?? (await trx('categories').first('id'))

  const sales = [
    { title: 'Standing fan, 3 speeds', price: 18_000_00, paidDaysAgo: 50, received: true },
    { title: 'Pine bookshelf, five shelves', price: 25_000_00, paidDaysAgo: 5, received: false },
  ]
  const shipmentIds: string[] = []
  for (const sale of sales) {
    const when = trx.raw(`now() - (? * interval '1 day')`, [sale.paidDaysAgo])
    const [listing] = await trx('listings')
      .insert({
        seller_id: ada.id,
        title: sale.title,
        description: 'Sold through Oja (demo).',
        type: 'sale',
        price: sale.price,
        condition: 'good',
        category_id: category!.id,
        quantity: 1,
        sold_quantity: 1,
        status: 'sold',
        city: 'Lagos',
        state: 'Lagos',
        published_at: when,
      })
      .returning('id')
    const [order] = await trx('orders')
      .insert({
        buyer_id: tunde.id,
        payment_status: 'paid',
        subtotal: sale.price,
        total: sale.price,
        shipping_address: {
          fullName: 'Tunde Bakare',
          phone: '+2348012345678',
          line1: '4 Ring Road',
          city: 'Ibadan',
          state: 'Oyo',
          country: 'NG',
        },
        paid_at: when,
        created_at: when,
        updated_at: when,
      })
      .returning('id')
    const [shipment] = await trx('shipments')
      .insert({
        order_id: order!.id,
        seller_id: ada.id,
        status: sale.received ? 'received' : 'delivered',
        sent_at: trx.raw(`now() - (? * interval '1 day')`, [sale.paidDaysAgo - 1]),
        delivered_at: trx.raw(`now() - (? * interval '1 day')`, [sale.received ? sale.paidDaysAgo - 2 : 1]),
        ...(sale.received ? { received_at: trx.raw(`now() - (? * interval '1 day')`, [sale.paidDaysAgo - 3]) } : {}),
        created_at: when,
      })
      .returning('id')
    await trx('order_items').insert({
      order_id: order!.id,
      shipment_id: shipment!.id,
      listing_id: listing!.id,
      seller_id: ada.id,
      title: sale.title,
      listing_type: 'sale',
      list_price: sale.price,
      unit_price: sale.price,
      quantity: 1,
    })
    await trx('payments').insert({
      order_id: order!.id,
      provider: 'paystack',
      reference: `demo-${String(order!.id).replace(/-/g, '')}`,
      amount: sale.price,
      currency: 'NGN',
      status: 'success',
      paid_at: when,
      created_at: when,
    })
    await ledger.capture(tx, {
      order: { id: order!.id, total: sale.price, currency: 'NGN' },
      lines: [{ shipmentId: shipment!.id, sellerId: ada.id, unitPrice: sale.price, quantity: 1 }],
      honoured: true,
      paystackFee: 0,
    })
    if (sale.received) shipmentIds.push(shipment!.id)
  }
  // The fan was received: its money released; ₦10,000 of it paid out six weeks ago.
  await releaseMany(trx, shipmentIds, 'received')
  const weeksAgo = trx.raw(`now() - interval '45 days'`)
  const [payout] = await trx('payouts')
    .insert({
      id: randomUUID(),
      seller_id: ada.id,
      amount: 10_000_00,
      status: 'paid',
      reference: `oja-po-demo${Date.now().toString(36)}000000`,
      recipient_code: 'RCP_demo_ada',
      bank_name: 'Guaranty Trust Bank',
      account_number_last4: '6789',
      transfer_code: 'TRF_demo_ada',
      provider_status: 'success',
      attempts: 1,
      paid_at: weeksAgo,
      created_at: weeksAgo,
      updated_at: weeksAgo,
    })
    .returning('id')
  const money = { id: payout!.id, sellerId: ada.id, amount: 10_000_00, currency: 'NGN' }
  await ledger.payoutStarted(tx, money)
  await ledger.payoutPaid(tx, money)
}
