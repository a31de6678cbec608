import type { Knex } from 'knex'

/**
 * Seller money: a double-entry ledger (append-only; every journal sums to zero, checked by
 * the database at commit), each seller's balances as a cache the database keeps from the
 * entries, and the escrow state of each paid shipment.
 *
 * Amounts are credit-positive: a seller's bucket, the platform's fee income, VAT owed and
 * refunds owed to buyers grow with positive entries; the Paystack clearing account (money
 * Paystack holds for us) and the costs (Paystack fees, coupons) grow with negative ones.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ledger_journals', (t) => {
    t.bigIncrements('id')
    /** What the journal records: sale, refund, refund_settled, release, hold, unhold, payout, ... */
    t.text('kind').notNullable()
    /** Makes a posting idempotent: one journal per key (`sale:<orderId>`, `payout:<id>:paid`). */
    t.text('dedupe_key').notNullable().unique()
    t.text('memo')
    t.uuid('actor_id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
  })
  await knex.schema.createTable('ledger_entries', (t) => {
    t.bigIncrements('id')
    t.bigInteger('journal_id').notNullable().references('id').inTable('ledger_journals')
    t.text('account').notNullable()
    t.uuid('seller_id')
    t.text('type').notNullable()
    t.bigInteger('amount').notNullable()
    t.text('currency').notNullable().defaultTo('NGN')
    t.uuid('order_id')
    t.uuid('shipment_id')
    t.uuid('refund_id')
    t.uuid('payout_id')
    t.uuid('dispute_id')
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['journal_id'])
    t.index(['seller_id', 'id'])
    t.index(['order_id'])
    t.index(['payout_id'])
    t.index(['account', 'created_at'])
  })
  await knex.raw(`
    alter table ledger_entries
      add constraint ledger_entries_account check (account in (
        'paystack_clearing', 'paystack_fees', 'platform_fees', 'vat_payable', 'coupon_cost',
        'refunds_payable', 'unmatched_receipts', 'adjustments',
        'seller_pending', 'seller_available', 'seller_on_hold', 'seller_in_transit')),
      add constraint ledger_entries_seller check ((account like 'seller_%') = (seller_id is not null)),
      add constraint ledger_entries_nonzero check (amount <> 0)`)

  await knex.raw(`
    create function ledger_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only', tg_table_name using errcode = 'insufficient_privilege';
    end $$`)
  for (const table of ['ledger_journals', 'ledger_entries']) {
    await knex.raw(
      `create trigger ${table}_no_update before update or delete on ${table} for each row execute function ledger_refuse_change()`,
    )
    await knex.raw(
      `create trigger ${table}_no_truncate before truncate on ${table} for each statement execute function ledger_refuse_change()`,
    )
  }
  // Every journal sums to zero, per currency, checked when the transaction commits.
  await knex.raw(`
    create function ledger_check_journal() returns trigger language plpgsql as $$
    declare off bigint;
    begin
      select sum(amount) into off from ledger_entries where journal_id = new.journal_id group by currency
        having sum(amount) <> 0 limit 1;
      if off is not null then
        raise exception 'ledger journal % does not balance (off by %)', new.journal_id, off
          using errcode = 'check_violation';
      end if;
      return null;
    end $$`)
  await knex.raw(`
    create constraint trigger ledger_entries_balanced after insert on ledger_entries
      deferrable initially deferred for each row execute function ledger_check_journal()`)

  // Each seller's balances, kept by the database from the entries (a cache the check compares).
  await knex.schema.createTable('seller_balances', (t) => {
    t.uuid('seller_id').notNullable()
    t.text('currency').notNullable().defaultTo('NGN')
    t.bigInteger('pending').notNullable().defaultTo(0)
    t.bigInteger('available').notNullable().defaultTo(0)
    t.bigInteger('on_hold').notNullable().defaultTo(0)
    t.bigInteger('in_transit').notNullable().defaultTo(0)
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.primary(['seller_id', 'currency'])
  })
  await knex.raw(`
    create function ledger_seller_balance() returns trigger language plpgsql as $$
    begin
      if new.seller_id is null then return null; end if;
      insert into seller_balances as b (seller_id, currency, pending, available, on_hold, in_transit)
      values (new.seller_id, new.currency,
        case when new.account = 'seller_pending' then new.amount else 0 end,
        case when new.account = 'seller_available' then new.amount else 0 end,
        case when new.account = 'seller_on_hold' then new.amount else 0 end,
        case when new.account = 'seller_in_transit' then new.amount else 0 end)
      on conflict (seller_id, currency) do update set
        pending = b.pending + excluded.pending,
        available = b.available + excluded.available,
        on_hold = b.on_hold + excluded.on_hold,
        in_transit = b.in_transit + excluded.in_transit,
        updated_at = now();
      return null;
    end $$`)
  await knex.raw(`
    create trigger ledger_entries_seller_balance after insert on ledger_entries
      for each row execute function ledger_seller_balance()`)

  // The money of one paid shipment: its share at order time, what refunds took back, where it is.
  await knex.schema.createTable('shipment_money', (t) => {
    t.uuid('shipment_id').primary().references('id').inTable('shipments')
    t.uuid('order_id').notNullable().references('id').inTable('orders')
    t.uuid('seller_id').notNullable()
    t.text('currency').notNullable().defaultTo('NGN')
    /** The shipment's lines at order-time prices, the platform's fee and its VAT (sums of per-line figures). */
    t.bigInteger('gross').notNullable()
    t.bigInteger('fee').notNullable()
    t.bigInteger('vat').notNullable()
    /** gross − fee − vat: what the seller earns. */
    t.bigInteger('share').notNullable()
    /** What refunds have reversed so far (sums of posted entries). */
    t.bigInteger('refunded_gross').notNullable().defaultTo(0)
    t.bigInteger('refunded_share').notNullable().defaultTo(0)
    t.bigInteger('refunded_fee').notNullable().defaultTo(0)
    t.bigInteger('refunded_vat').notNullable().defaultTo(0)
    /** Where the seller's share sits: pending (escrow), on_hold (dispute) or released (available). */
    t.text('state').notNullable().defaultTo('pending')
    t.text('release_reason')
    t.timestamp('released_at', { useTz: true })
    /** The buyer's 6-digit code for a meet-up hand-over, and the wrong tries so far (5 lock it). */
    t.text('handover_code').notNullable()
    t.integer('handover_failures').notNullable().defaultTo(0)
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now())
    t.index(['order_id'])
    t.index(['seller_id'])
  })
  await knex.raw(`
    alter table shipment_money
      add constraint shipment_money_state check (state in ('pending', 'on_hold', 'released')),
      add constraint shipment_money_share check (share = gross - fee - vat and share >= 0),
      add constraint shipment_money_refunded check (refunded_gross between 0 and gross)`)
  // The release sweeper's work: paid shipments whose money is still in escrow.
  await knex.raw(`create index shipment_money_pending on shipment_money (shipment_id) where state = 'pending'`)

  // A refund may be for one shipment (a dispute's); the ledger takes it from that shipment first.
  await knex.schema.alterTable('refunds', (t) => {
    t.uuid('shipment_id').references('id').inTable('shipments')
  })
  await knex.raw(`
    alter table refunds drop constraint refunds_origin_check,
      add constraint refunds_origin_check check (origin in ('admin','buyer_cancel','late_payment','provider','dispute'))`)
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table refunds drop constraint refunds_origin_check,
      add constraint refunds_origin_check check (origin in ('admin','buyer_cancel','late_payment','provider'))`)
  await knex.schema.alterTable('refunds', (t) => t.dropColumn('shipment_id'))
  await knex.raw('drop table if exists shipment_money')
  await knex.raw('drop table if exists ledger_entries')
  await knex.raw('drop table if exists ledger_journals')
  await knex.raw('drop table if exists seller_balances')
  await knex.raw('drop function if exists ledger_seller_balance()')
  await knex.raw('drop function if exists ledger_check_journal()')
  await knex.raw('drop function if exists ledger_refuse_change()')
}
