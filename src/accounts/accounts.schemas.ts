import { Type, type Static } from '@sinclair/typebox'
import { Id, NameText, OrNull, StrictObject, Timestamp } from '../shared/index.js'

const Email = Type.String({ format: 'email', maxLength: 254 })
const Password = Type.String({ minLength: 8, maxLength: 200 })
const Name = NameText({ minLength: 1, maxLength: 100 })
const Token = Type.String({ minLength: 10, maxLength: 200 })

export const Me = Type.Object(
  {
    id: Id,
    email: Type.String(),
    name: Type.String(),
    role: Type.Union([Type.Literal('user'), Type.Literal('admin')]),
    emailVerified: Type.Boolean(),
    bio: OrNull(Type.String()),
    location: OrNull(Type.String()),
    avatarUrl: OrNull(Type.String()),
    createdAt: Timestamp,
  },
  { title: 'Me' },
)
export type Me = Static<typeof Me>

export const Rating = Type.Object({ average: OrNull(Type.Number()), count: Type.Integer() }, { title: 'Rating' })

export const PublicProfile = Type.Object(
  {
    id: Id,
    name: Type.String(),
    bio: OrNull(Type.String()),
    location: OrNull(Type.String()),
    avatarUrl: OrNull(Type.String()),
    createdAt: Timestamp,
    rating: Rating,
    activeListings: Type.Integer(),
  },
  { title: 'PublicProfile' },
)

/** The access token's lifetime in seconds, on every answer that carries tokens. */
const ExpiresIn = Type.Integer({ minimum: 1, description: 'Seconds until the access token expires' })
export const TokenPair = Type.Object(
  { accessToken: Type.String(), refreshToken: Type.String(), expiresIn: ExpiresIn },
  { title: 'TokenPair' },
)
export const AuthResult = Type.Object(
  {
    user: Me,
    accessToken: Type.String(),
    refreshToken: Type.String(),
    expiresIn: ExpiresIn,
  },
  { title: 'AuthResult' },
)

export const RegisterBody = StrictObject({ email: Email, password: Password, name: Name }, { title: 'RegisterBody' })
export const LoginBody = StrictObject(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { title: 'LoginBody' },
)
export const RefreshBody = StrictObject({ refreshToken: Token }, { title: 'RefreshBody' })
export const TokenBody = StrictObject({ token: Token }, { title: 'TokenBody' })
export const ForgotPasswordBody = StrictObject(
  { email: Type.String({ minLength: 1, maxLength: 254 }) },
  { title: 'ForgotPasswordBody' },
)
export const ResetPasswordBody = StrictObject({ token: Token, password: Password }, { title: 'ResetPasswordBody' })

/**
 * A picture a client will load: https only (never `javascript:`, `data:`, `file:` or plain
 * `http:`), with a host and no user part. The database refuses anything else too.
 */
export const AvatarUrl = Type.String({
  format: 'uri',
  pattern: '^https://[^\\s/?#@]+([/?#]\\S*)?$',
  maxLength: 1000,
  description: 'An https URL',
})

const OptionalText = (max: number) => Type.Optional(OrNull(Type.String({ maxLength: max })))
export const UpdateMeBody = StrictObject(
  {
    name: Type.Optional(Name),
    bio: OptionalText(1000),
    location: OptionalText(200),
    avatarUrl: Type.Optional(OrNull(AvatarUrl)),
  },
  { title: 'UpdateMeBody', minProperties: 1 },
)
export type UpdateMeBody = Static<typeof UpdateMeBody>

export const Address = Type.Object(
  {
    id: Id,
    fullName: Type.String(),
    phone: Type.String(),
    line1: Type.String(),
    line2: Type.Optional(OrNull(Type.String())),
    city: Type.String(),
    state: Type.String(),
    country: Type.String(),
    postalCode: Type.Optional(OrNull(Type.String())),
    isDefault: Type.Boolean(),
  },
  { title: 'Address' },
)
export type Address = Static<typeof Address>

/** The fields of a postal address: saved addresses and a checkout's one-off address share them. */
export const postalAddressFields = {
  fullName: NameText({ minLength: 1, maxLength: 120 }),
  phone: Type.String({ pattern: '^\\+?[0-9 ()-]{7,20}$' }),
  line1: Type.String({ minLength: 1, maxLength: 200 }),
  line2: Type.Optional(OrNull(Type.String({ maxLength: 200 }))),
  city: Type.String({ minLength: 1, maxLength: 100 }),
  state: Type.String({ minLength: 1, maxLength: 100 }),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', default: 'NG' })),
  postalCode: Type.Optional(OrNull(Type.String({ maxLength: 20 }))),
}
export const AddressInput = StrictObject(
  { ...postalAddressFields, isDefault: Type.Optional(Type.Boolean()) },
  { title: 'AddressInput' },
)
export type AddressInput = Static<typeof AddressInput>
export const AddressPatch = Type.Partial(AddressInput, { additionalProperties: false, minProperties: 1 })
export type AddressPatch = Static<typeof AddressPatch>

export const UserIdParams = StrictObject({ userId: Id })
