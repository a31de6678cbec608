import { Type, type Static } from '@sinclair/typebox'
import { Id, StrictObject, Timestamp } from '../shared/index.js'
import { Me } from './accounts.schemas.js'

// The same rules as registration's (RegisterBody): 8 to 200 characters.
const NewPassword = Type.String({ minLength: 8, maxLength: 200 })
// The password asked again before a sensitive change: anything the account could have.
const CurrentPassword = Type.String({ minLength: 1, maxLength: 200 })

export const ChangePasswordBody = StrictObject(
  { currentPassword: CurrentPassword, newPassword: NewPassword },
  {
    title: 'ChangePasswordBody',
    examples: [{ currentPassword: 'correct horse battery', newPassword: 'a longer passphrase 2026' }],
  },
)

export const ChangeEmailBody = StrictObject(
  { newEmail: Type.String({ format: 'email', maxLength: 254 }), password: CurrentPassword },
  {
    title: 'ChangeEmailBody',
    examples: [{ newEmail: 'ada.new@example.com', password: 'correct horse battery' }],
  },
)

export const DeleteAccountBody = StrictObject(
  { password: CurrentPassword },
  { title: 'DeleteAccountBody', examples: [{ password: 'correct horse battery' }] },
)

export const Session = Type.Object(
  {
    id: Id,
    createdAt: Timestamp,
    lastUsedAt: Timestamp,
    userAgent: Type.Optional(Type.String()),
    current: Type.Boolean({ description: 'The session of the access token making this request' }),
  },
  {
    title: 'Session',
    examples: [
      {
        id: '5f0c2b7e-8a51-4c1e-9d63-2f1a7c9e4b10',
        createdAt: '2026-12-01T09:12:44.000Z',
        lastUsedAt: '2026-12-07T16:02:10.000Z',
        userAgent: 'Oja/2.3 (iPhone; iOS 18.1)',
        current: true,
      },
    ],
  },
)
export type SessionView = Static<typeof Session>

export const SessionList = Type.Object(
  { items: Type.Array(Session) },
  {
    title: 'SessionList',
    examples: [
      {
        items: [
          {
            id: '5f0c2b7e-8a51-4c1e-9d63-2f1a7c9e4b10',
            createdAt: '2026-12-01T09:12:44.000Z',
            lastUsedAt: '2026-12-07T16:02:10.000Z',
            userAgent: 'Oja/2.3 (iPhone; iOS 18.1)',
            current: true,
          },
        ],
      },
    ],
  },
)

/** A row of an export section: the stored columns, camelCase, times in ISO-8601. */
const ExportRow = Type.Object({}, { additionalProperties: true })
const Rows = Type.Array(ExportRow)

export const AccountExport = Type.Object(
  {
    exportedAt: Timestamp,
    profile: Me,
    addresses: Type.Array(ExportRow, { description: 'Saved addresses, as GET /v1/me/addresses shows them' }),
    listings: Rows,
    wants: Rows,
    wishlist: Rows,
    orders: Type.Array(ExportRow, { description: 'Orders the account placed, with their lines and shipments' }),
    sales: Type.Array(ExportRow, { description: 'Shipments the account sold, with their lines' }),
    messages: Type.Array(ExportRow, { description: 'Every message of the conversations the account is part of' }),
    reviews: Type.Object({ written: Rows, received: Rows }),
    notifications: Rows,
    limits: Type.Object({
      perSection: Type.Integer({ description: 'The most rows one section carries' }),
    }),
    truncated: Type.Array(Type.String(), {
      description: 'Sections cut at `limits.perSection` (empty when the export is whole)',
    }),
  },
  {
    title: 'AccountExport',
    examples: [
      {
        exportedAt: '2026-12-07T16:30:00.000Z',
        profile: {
          id: '0b9c1f3a-61c4-4d0e-8f57-3b1a2c4d5e6f',
          email: 'ada@example.com',
          name: 'Ada Obi',
          role: 'user',
          emailVerified: true,
          bio: 'Selling what my kids outgrew',
          location: 'Lagos',
          avatarUrl: null,
          createdAt: '2026-11-02T08:00:00.000Z',
        },
        addresses: [
          {
            id: '9a1e2f3b-4c5d-4e6f-8a7b-1c2d3e4f5a6b',
            fullName: 'Ada Obi',
            phone: '+2348012345678',
            line1: '12 Allen Avenue',
            line2: null,
            city: 'Ikeja',
            state: 'Lagos',
            country: 'NG',
            postalCode: null,
            isDefault: true,
            createdAt: '2026-11-02T08:05:00.000Z',
          },
        ],
        listings: [
          {
            id: '1d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
            title: 'Baby stroller',
            price: 2500000,
            currency: 'NGN',
            status: 'active',
            imageUrls: [],
          },
        ],
        wants: [],
        wishlist: [],
        orders: [],
        sales: [],
        messages: [],
        reviews: { written: [], received: [] },
        notifications: [],
        limits: { perSection: 10000 },
        truncated: [],
      },
    ],
  },
)
export type AccountExport = Static<typeof AccountExport>
