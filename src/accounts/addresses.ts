import type { Db } from '../db/index.js'
import type { AddressRow } from './accounts.tables.js'

/** A saved address as checkout snapshots it. */
export type SavedAddress = Pick<
  AddressRow,
  'full_name' | 'phone' | 'line1' | 'line2' | 'city' | 'state' | 'country' | 'postal_code'
>

/**
 * One of the user's saved addresses: the one with `addressId`, or their default when it is
 * not given. `undefined` when there is no such address (or it is someone else's).
 */
export async function savedAddressOf(db: Db, userId: string, addressId?: string): Promise<SavedAddress | undefined> {
  const query = db('addresses').where('user_id', userId)
  return (addressId ? query.where('id', addressId) : query.where('is_default', true)).first(
    'full_name',
    'phone',
    'line1',
    'line2',
    'city',
    'state',
    'country',
    'postal_code',
  )
}
