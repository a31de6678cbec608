import type { Knex } from 'knex'

/**
 * Helpers for declaring a table's row type to Knex. Each feature declares the tables it owns
 * in its `<feature>.tables.ts` by augmenting Knex's `Tables` interface, so that
 * `db('listings')` is typed everywhere and a renamed column breaks the compile where it is
 * used:
 *
 * ```ts
 * export type CategoryRow = { id: string; name: string; ... }
 * declare module 'knex/types/tables.js' {
 *   interface Tables { categories: Table<CategoryRow, 'id' | 'position' | 'created_at'> }
 * }
 * ```
 */

/** A value Knex accepts in place of a column's value in an insert or update (`db.fn.now()`, `db.raw(...)`). */
export type SqlValue = Knex.Raw | Knex.QueryBuilder

type Writable<Row> = { [K in keyof Row]: Row[K] | SqlValue }

/**
 * A table whose rows are `Row`: an insert must give every column except those with a database
 * default (`Defaulted`); an update may give any column. Either may give raw SQL for a value.
 */
export type Table<Row extends object, Defaulted extends keyof Row = never> = Knex.CompositeTableType<
  Row,
  Writable<Omit<Row, Defaulted> & Partial<Pick<Row, Defaulted>>>,
  Partial<Writable<Row>>
>
