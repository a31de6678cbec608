import { Model, snakeCaseMappers } from 'objection'
import type { Role } from '../shared/index.js'

/** An account: every user can buy and sell; `admin` is a separate role. */
export class User extends Model {
  static override tableName = 'users'
  static override get columnNameMappers() {
    return snakeCaseMappers()
  }
  id!: string
  email!: string
  passwordHash!: string
  name!: string
  role!: Role
  emailVerifiedAt!: Date | null
  bio!: string | null
  location!: string | null
  avatarUrl!: string | null
  bannedAt!: Date | null
  banReason!: string | null
  createdAt!: Date
  updatedAt!: Date
  /** When the account was erased. */
  deletedAt!: Date | null
}

export class AddressModel extends Model {
  static override tableName = 'addresses'
  static override get columnNameMappers() {
    return snakeCaseMappers()
  }
  id!: string
  userId!: string
  fullName!: string
  phone!: string
  line1!: string
  line2!: string | null
  city!: string
  state!: string
  country!: string
  postalCode!: string | null
  isDefault!: boolean
  createdAt!: Date
}
