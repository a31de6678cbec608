import { Type, type Static } from '@sinclair/typebox'
import { Currency, Id, OrNull, PageQuery, StrictObject, StringEnum, Timestamp } from '../shared/index.js'

export const PAYOUT_STATUSES = ['pending', 'processing', 'paid', 'failed', 'reversed'] as const

export const Bank = Type.Object(
  {
    code: Type.String({ description: 'What PUT /v1/me/payout-account takes as `bankCode`' }),
    name: Type.String(),
  },
  { title: 'Bank' },
)
export const BankList = Type.Array(Bank)

export const PayoutAccountBody = StrictObject(
  {
    bankCode: Type.String({ pattern: '^[0-9A-Za-z]{2,12}$', description: 'A code from GET /v1/banks' }),
    accountNumber: Type.String({ pattern: '^[0-9]{10}$', description: 'The 10-digit NUBAN account number' }),
  },
  { title: 'PayoutAccountBody' },
)

export const PayoutAccount = Type.Object(
  {
    bankCode: Type.String(),
    bankName: Type.String(),
    accountName: Type.String({ description: 'The name the bank holds for the account' }),
    accountNumberLast4: Type.String({ description: 'The full number is never shown' }),
    verifiedAt: Timestamp,
  },
  { title: 'PayoutAccount' },
)
export type PayoutAccountView = Static<typeof PayoutAccount>

export const Payout = Type.Object(
  {
    id: Id,
    amount: Type.Integer({ description: 'Minor units (kobo)' }),
    currency: Currency,
    status: StringEnum(PAYOUT_STATUSES),
    reference: Type.String({ description: 'The Paystack transfer reference' }),
    failureReason: Type.Optional(Type.String()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'Payout' },
)
export type PayoutView = Static<typeof Payout>

/** A payout as admins list it: who it is for, and how its sending goes. */
export const AdminPayout = Type.Object(
  {
    ...Payout.properties,
    sellerId: Id,
    attempts: Type.Integer(),
    lastError: OrNull(Type.String()),
    nextAttemptAt: OrNull(Timestamp),
  },
  { title: 'AdminPayout' },
)
export type AdminPayoutView = Static<typeof AdminPayout>

export const CreatePayoutBody = Type.Optional(
  StrictObject({
    amount: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000_000_000,
        description: 'Kobo to withdraw; default: all of `available`',
      }),
    ),
  }),
)

export const ListPayoutsQuery = StrictObject({ ...PageQuery })
export const AdminPayoutsQuery = StrictObject({ ...PageQuery, status: Type.Optional(StringEnum(PAYOUT_STATUSES)) })

export const PayoutPage = Type.Object(
  { items: Type.Array(Payout), nextCursor: OrNull(Type.String()) },
  { title: 'PayoutPage' },
)
export const AdminPayoutPage = Type.Object(
  { items: Type.Array(AdminPayout), nextCursor: OrNull(Type.String()) },
  { title: 'AdminPayoutPage' },
)
