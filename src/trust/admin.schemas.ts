import { Type } from '@sinclair/typebox'
import { Id, NameText, OrNull, StrictObject, Timestamp, PageQuery } from '../shared/index.js'

export const BanBody = StrictObject({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { title: 'BanBody' })
export const UnbanBody = Type.Optional(StrictObject({ note: Type.Optional(Type.String({ maxLength: 500 })) }))

export const AdminUser = Type.Object(
  {
    id: Id,
    email: Type.String(),
    name: Type.String(),
    role: Type.String(),
    bannedAt: OrNull(Timestamp),
    banReason: OrNull(Type.String()),
    createdAt: Timestamp,
  },
  { title: 'AdminUser' },
)

export const AdminUsersQuery = StrictObject({
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  banned: Type.Optional(Type.Boolean()),
  ...PageQuery,
})

export const AuditEntry = Type.Object(
  {
    id: Id,
    action: Type.String(),
    actorId: OrNull(Id),
    actorRole: OrNull(Type.String()),
    targetType: Type.String(),
    targetId: Type.String(),
    before: Type.Unknown(),
    after: Type.Unknown(),
    note: OrNull(Type.String()),
    requestId: OrNull(Type.String()),
    createdAt: Timestamp,
  },
  { title: 'AuditEntry' },
)

export const AuditQuery = StrictObject({
  action: Type.Optional(Type.String({ maxLength: 100 })),
  actorId: Type.Optional(Id),
  targetType: Type.Optional(Type.String({ maxLength: 50 })),
  targetId: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Type.String({ format: 'date-time' })),
  to: Type.Optional(Type.String({ format: 'date-time' })),
  ...PageQuery,
})

const Slug = Type.String({ pattern: '^[a-z0-9]+(-[a-z0-9]+)*$', maxLength: 80 })
export const CategoryInput = StrictObject(
  {
    name: NameText({ minLength: 1, maxLength: 80 }),
    slug: Slug,
    parentId: Type.Optional(OrNull(Id)),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { title: 'CategoryInput' },
)
export const CategoryPatch = Type.Partial(CategoryInput, { additionalProperties: false, minProperties: 1 })
export const AdminCategory = Type.Object(
  {
    id: Id,
    name: Type.String(),
    slug: Type.String(),
    parentId: OrNull(Id),
    position: Type.Integer(),
    listingCount: Type.Integer(),
  },
  { title: 'AdminCategory' },
)
