/**
 * Seller money at scale: 10 000 paid shipments (from 1 000 sellers, delivered long ago) are
 * released from escrow by the sweeper's job, then every seller withdraws what is available
 * (one payout each, sent to the fake Paystack and confirmed by its `transfer.success`
 * webhook). Reported: the wall time of each phase, its statements per shipment (Knex
 * queries counted) and PostgreSQL's CPU per shipment (the postgres processes' CPU from
 * /proc, so run it on a quiet machine). Then the ledger check over all of it, timed.
 *
 * The payouts phase: each seller's one payout (sessions and payout accounts set up first, not
 * timed), sent to the fake Paystack and confirmed by its webhook, then the check again.
 *
 * The reference is the same release done by PostgreSQL alone in three set-based statements
 * (journals, entries, escrow rows) with no notifications: the floor for this work here.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { OjaApp } from '../../../src/app.js'
import { buildApp } from '../../../src/app.js'
import { testConfig } from '../../helpers/app.js'
import { createTestDatabase, databaseUrl, dropTestDatabase } from '../../helpers/pg.js'
import { FakePaystack } from '../../fakes/paystack.js'
import { categoryId } from '../../factories/listings.js'
import type { BenchContext, BenchRow, Scenario } from '../lib.js'

/** CPU seconds used so far by every PostgreSQL process on this machine (utime + stime). */
function postgresCpuSeconds(): number {
  const tick = 100 // USER_HZ on Linux
  let total = 0
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      if (comm !== 'postgres') continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / tick
    } catch {
      // the process ended meanwhile
    }
  }
  return total
}

/** Counts the statements an app sends (Knex's `query` event). */
function statementCounter(app: OjaApp): { count: () => number } {
  let n = 0
  app.db.on('query', () => {
    n++
  })
  return { count: () => n }
}

/** Paid, delivered shipments straight into the tables, then captured through the ledger as a payment would be. */
async function seed(app: OjaApp, shipments: number, sellers: number): Promise<void> {
  const buyer = randomUUID()
  await app.db('users').insert({ id: buyer, email: `buyer-${buyer}@bench.oja`, password_hash: 'x', name: 'Buyer' })
  const { rows: sellerRows } = await app.db.raw<{ rows: { id: string }[] }>(
    `insert into users (email, password_hash, name)
     select 'seller' || g || '-' || :tag || '@bench.oja', 'x', 'Seller ' || g from generate_series(1, :n) g returning id`,
    { n: sellers, tag: buyer.slice(0, 8) },
  )
  const category = await categoryId(app.db)
  const price = 1_234_567
  for (let start = 0; start < shipments; start += 500) {
    const n = Math.min(500, shipments - start)
    await app.db.transaction(async (trx) => {
      const { rows } = await trx.raw<{
        rows: { order_id: string; shipment_id: string; seller_id: string }[]
      }>(
        `with s as (
           select g, (:sellers::uuid[])[1 + ((g + :offset) % :sellerCount)] as seller_id from generate_series(1, :n) g
         ), l as (
           insert into listings (seller_id, title, description, type, price, condition, category_id, quantity, sold_quantity, status)
           select seller_id, 'Bench chair ' || g, 'Solid', 'sale', :price, 'good', :category, 1, 1, 'sold' from s
           returning id, seller_id
         ), numbered as (
           select id as listing_id, seller_id, row_number() over () as k from l
         ), o as (
           insert into orders (buyer_id, payment_status, subtotal, total, shipping_address, paid_at)
           select :buyer, 'paid', :price, :price, '{"city":"Lagos"}'::jsonb, now() - interval '30 days' from numbered
           returning id
         ), onum as (
           select id as order_id, row_number() over () as k from o
         ), sh as (
           insert into shipments (order_id, seller_id, status, delivered_at)
           select onum.order_id, numbered.seller_id, 'delivered', now() - interval '29 days'
             from onum join numbered using (k)
           returning id, order_id, seller_id
         ), items as (
           insert into order_items (order_id, shipment_id, listing_id, seller_id, title, listing_type, list_price, unit_price, quantity)
           select sh.order_id, sh.id, numbered.listing_id, sh.seller_id, 'Bench chair', 'sale', :price, :price, 1
             from sh join onum on onum.order_id = sh.order_id join numbered using (k)
           returning order_id
         ), pay as (
           insert into payments (order_id, provider, reference, amount, currency, status, paid_at)
           select id, 'paystack', 'bench-' || replace(id::text, '-', ''), :price, 'NGN', 'success', now() - interval '30 days' from o
           returning order_id
         )
         select sh.order_id, sh.id as shipment_id, sh.seller_id from sh`,
        {
          sellers: sellerRows.map((r) => r.id),
          sellerCount: sellerRows.length,
          offset: start,
          n,
          price,
          category,
          buyer,
        },
      )
      const tx = { db: trx, log: app.log, pending: [] }
      for (const r of rows)
        await app.ledger.capture(tx, {
          order: { id: r.order_id, total: price, currency: 'NGN' },
          lines: [{ shipmentId: r.shipment_id, sellerId: r.seller_id, unitPrice: price, quantity: 1 }],
          honoured: true,
          paystackFee: 0,
        })
    })
  }
}

async function run(ctx: BenchContext): Promise<BenchRow[]> {
  const shipments = ctx.quick ? 1_000 : 10_000
  const sellers = shipments / 10
  const rows: BenchRow[] = []
  const name = await createTestDatabase()
  const paystack = await FakePaystack.start()
  // Enough in Paystack's balance for every payout (the fake starts at ₦10,000,000).
  paystack.setBalance(1_000_000_000_000)
  let app: OjaApp | undefined
  try {
    app = await buildApp(
      testConfig(
        { name, url: databaseUrl(name) },
        {
          DATABASE_POOL_MAX: 10,
          LOG_LEVEL: 'silent',
          ESCROW_RELEASE_DAYS: 3,
          PAYSTACK_SECRET_KEY: paystack.secretKey,
          PAYSTACK_BASE_URL: paystack.url,
        },
      ),
      { background: false, logger: false },
    )
    await app.ready()
    ctx.log(`money: seeding ${shipments} paid shipments from ${sellers} sellers`)
    await seed(app, shipments, sellers)

    // Release: the sweeper's job, run at once.
    const counter = statementCounter(app)
    let q0 = counter.count()
    let cpu0 = postgresCpuSeconds()
    let t0 = performance.now()
    const released = await app.releaseEscrow()
    const releaseMs = performance.now() - t0
    const releaseCpu = postgresCpuSeconds() - cpu0
    const releaseStatements = counter.count() - q0
    if (released !== shipments) throw new Error(`released ${released} of ${shipments}`)
    rows.push({
      scenario: 'money',
      variant: 'oja',
      rps: shipments / (releaseMs / 1000),
      note: `release of ${shipments} shipments by the sweeper job: ${(releaseMs / 1000).toFixed(1)} s, ${(releaseStatements / shipments).toFixed(3)} statements and ${((releaseCpu * 1000) / shipments).toFixed(2)} ms PostgreSQL CPU per shipment`,
    })

    // The ledger check over everything (what admins and the daily job run).
    t0 = performance.now()
    const mismatches = await app.ledger.check({ db: app.db, log: app.log })
    const checkMs = performance.now() - t0
    if (mismatches.length > 0)
      throw new Error(
        `ledger check: ${mismatches
          .slice(0, 3)
          .map((m) => m.detail)
          .join('; ')}`,
      )
    rows.push({
      scenario: 'money',
      variant: 'ledger check',
      note: `the whole check over ${shipments} shipments: ${(checkMs / 1000).toFixed(2)} s, balanced`,
    })

    // Reference: the same release as three set-based statements in bare pg.
    const client = new pg.Client({ connectionString: databaseUrl(name) })
    await client.connect()
    try {
      await client.query(`update shipments set delivered_at = now() - interval '29 days' where status = 'delivered'`)
      // A second population to release: put the escrow back by new journals (append-only), then release set-based.
      await client.query('begin')
      cpu0 = postgresCpuSeconds()
      t0 = performance.now()
      await client.query(`
        with due as (
          select m.shipment_id, m.seller_id, m.order_id, m.share - m.refunded_share as amount
            from shipment_money m join shipments s on s.id = m.shipment_id
           where s.status = 'delivered'),
        j as (
          insert into ledger_journals (kind, dedupe_key)
          select 'release', 'reference-release:' || shipment_id from due returning id, dedupe_key)
        insert into ledger_entries (journal_id, account, seller_id, type, amount, order_id, shipment_id)
        select j.id, a.account, due.seller_id, 'release', a.sign * due.amount, due.order_id, due.shipment_id
          from due join j on j.dedupe_key = 'reference-release:' || due.shipment_id
          cross join (values ('seller_pending', -1), ('seller_available', 1)) as a(account, sign)`)
      await client.query(`update shipment_money set updated_at = now() where state = 'released'`)
      const refMs = performance.now() - t0
      const refCpu = postgresCpuSeconds() - cpu0
      await client.query('rollback')
      rows.push({
        scenario: 'money',
        variant: 'reference',
        rps: shipments / (refMs / 1000),
        note: `the same release in 2 set-based statements (bare pg, no notifications): ${(refMs / 1000).toFixed(2)} s, ${((refCpu * 1000) / shipments).toFixed(3)} ms PostgreSQL CPU per shipment`,
      })
    } finally {
      await client.end()
    }

    // Payouts: every seller sets a payout account (not measured), then withdraws all of
    // available; the fake Paystack pays each transfer and its signed webhook confirms it.
    const { rows: sellerRows } = await app.db.raw<{ rows: { seller_id: string }[] }>(
      'select distinct seller_id from shipment_money',
    )
    const { rows: sessions } = await app.db.raw<{ rows: { id: string; user_id: string }[] }>(
      `insert into sessions (user_id, expires_at) select unnest(?::uuid[]), now() + interval '1 day' returning id, user_id`,
      [sellerRows.map((r) => r.seller_id)],
    )
    const tokens = sessions.map((x) => app!.jwt.sign({ sub: x.user_id, sid: x.id, role: 'user' }))
    const inBatches = async <T>(items: T[], size: number, fn: (item: T, i: number) => Promise<void>) => {
      for (let i = 0; i < items.length; i += size)
        await Promise.all(items.slice(i, i + size).map((item, k) => fn(item, i + k)))
    }
    await inBatches(tokens, 20, async (token, i) => {
      const res = await app!.inject({
        method: 'PUT',
        url: '/v1/me/payout-account',
        headers: { authorization: `Bearer ${token}` },
        payload: { bankCode: '058', accountNumber: String(1_000_000_000 + i) },
      })
      if (res.statusCode !== 200) throw new Error(`payout account: ${res.statusCode} ${res.body}`)
    })
    q0 = counter.count()
    cpu0 = postgresCpuSeconds()
    t0 = performance.now()
    const references: string[] = []
    await inBatches(tokens, 20, async (token, i) => {
      const res = await app!.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': `bench-${i}` },
        payload: {},
      })
      if (res.statusCode !== 201) throw new Error(`payout: ${res.statusCode} ${res.body}`)
      references.push((res.json() as { reference: string }).reference)
    })
    await app.payouts.idle()
    const requestedMs = performance.now() - t0
    await inBatches(references, 20, async (reference) => {
      const hook = paystack.settleTransfer(reference, 'success')
      const res = await app!.inject({
        method: 'POST',
        url: '/v1/webhooks/paystack',
        headers: hook.headers,
        payload: hook.payload,
      })
      if (res.statusCode !== 200) throw new Error(`webhook: ${res.statusCode}`)
    })
    await app.commerce.idle()
    const payoutMs = performance.now() - t0
    const payoutCpu = postgresCpuSeconds() - cpu0
    const payoutStatements = counter.count() - q0
    const paid = Number((await app.db('payouts').where('status', 'paid').count<{ n: string }[]>('* as n'))[0]!.n)
    if (paid !== references.length) throw new Error(`paid ${paid} of ${references.length} payouts`)
    rows.push({
      scenario: 'money',
      variant: 'payouts',
      rps: references.length / (payoutMs / 1000),
      note: `${references.length} payouts (all of ${shipments} shipments' money): requested and sent in ${(requestedMs / 1000).toFixed(1)} s, paid in ${(payoutMs / 1000).toFixed(1)} s; per shipment ${(payoutStatements / shipments).toFixed(2)} statements, ${((payoutCpu * 1000) / shipments).toFixed(2)} ms PostgreSQL CPU (per payout ${(payoutStatements / references.length).toFixed(1)}, ${((payoutCpu * 1000) / references.length).toFixed(2)} ms)`,
    })
    const after = await app.ledger.check({ db: app.db, log: app.log })
    if (after.length > 0) throw new Error(`ledger check after payouts: ${after[0]!.detail}`)
  } finally {
    await app?.close()
    await paystack.close()
    await dropTestDatabase(name)
  }
  return rows
}

export const scenario: Scenario = { name: 'money', order: 60, run }
