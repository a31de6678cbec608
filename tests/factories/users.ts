import type { OjaApp } from '../../src/app.js'
import { call, uniqueEmail } from '../helpers/app.js'

export type SignedInUser = { id: string; email: string; password: string; accessToken: string; refreshToken: string }

/** Registers a user through the API and returns its tokens. */
export async function aUser(
  app: OjaApp,
  overrides: { email?: string; name?: string; password?: string } = {},
): Promise<SignedInUser> {
  const email = overrides.email ?? uniqueEmail()
  const password = overrides.password ?? 'correct horse battery'
  const res = await call(app, 'POST', '/v1/auth/register', {
    body: { email, password, name: overrides.name ?? 'Test User' },
  })
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`)
  return {
    id: res.json.user.id,
    email,
    password,
    accessToken: res.json.accessToken,
    refreshToken: res.json.refreshToken,
  }
}

/** Registers a user and makes it an admin (as `npm run admin -- promote` does), then signs in again. */
export async function anAdmin(app: OjaApp): Promise<SignedInUser> {
  const user = await aUser(app, { name: 'Admin' })
  await app.db('users').where('id', user.id).update({ role: 'admin' })
  const res = await call(app, 'POST', '/v1/auth/login', { body: { email: user.email, password: user.password } })
  return { ...user, accessToken: res.json.accessToken, refreshToken: res.json.refreshToken }
}
