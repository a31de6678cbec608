import t from 'tap'
import { build, call } from './helpers/app.js'
import { aUser, anAdmin } from './factories/users.js'
import { aListing, categoryId } from './factories/listings.js'

void t.test('ban and unban: sessions end at once, audited, admins only', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const u = await aUser(app)
  const other = await aUser(app)

  t.equal(
    (await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, { token: other.accessToken, body: { reason: 'x' } }))
      .statusCode,
    403,
    'a user cannot ban',
  )
  t.equal((await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, { body: { reason: 'x' } })).statusCode, 401)
  t.equal(
    (await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, { token: admin.accessToken, body: {} })).statusCode,
    400,
    'a reason is required',
  )

  const ban = await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, {
    token: admin.accessToken,
    body: { reason: 'scam listings' },
  })
  t.equal(ban.statusCode, 200)
  t.ok(ban.json.bannedAt)
  t.equal(ban.json.banReason, 'scam listings')
  const me = await call(app, 'GET', '/v1/me', { token: u.accessToken })
  t.equal(me.statusCode, 403, 'the banned session is refused, as the contract says of banned users')
  t.equal(me.json.code, 'ACCOUNT_BANNED')
  const login = await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })
  t.equal(login.json.code, 'ACCOUNT_BANNED')
  t.equal(
    (await call(app, 'POST', `/v1/admin/users/${u.id}/ban`, { token: admin.accessToken, body: { reason: 'again' } }))
      .json.code,
    'ALREADY_BANNED',
  )
  t.equal(
    (await call(app, 'POST', `/v1/admin/users/${admin.id}/ban`, { token: admin.accessToken, body: { reason: 'self' } }))
      .json.code,
    'CANNOT_BAN_ADMIN',
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/users/00000000-0000-4000-8000-000000000000/ban', {
        token: admin.accessToken,
        body: { reason: 'x' },
      })
    ).statusCode,
    404,
  )

  const banned = await call(app, 'GET', '/v1/admin/users?banned=true', { token: admin.accessToken })
  t.same(
    banned.json.items.map((x: { id: string }) => x.id),
    [u.id],
  )

  const unban = await call(app, 'POST', `/v1/admin/users/${u.id}/unban`, { token: admin.accessToken })
  t.equal(unban.statusCode, 200)
  t.equal(unban.json.bannedAt, null)
  t.equal(
    (await call(app, 'POST', `/v1/admin/users/${u.id}/unban`, { token: admin.accessToken })).json.code,
    'NOT_BANNED',
  )
  t.equal(
    (await call(app, 'POST', '/v1/auth/login', { body: { email: u.email, password: u.password } })).statusCode,
    200,
  )

  const log = await call(app, 'GET', '/v1/admin/audit-log?targetType=user', { token: admin.accessToken })
  t.same(
    log.json.items.map((e: { action: string }) => e.action),
    ['admin.user_unbanned', 'admin.user_banned'],
    'newest first',
  )
  t.equal(log.json.items[1].actorId, admin.id)
  t.equal(log.json.items[1].note, 'scam listings')
  t.ok(log.json.items[1].requestId, 'request id recorded')
  const page1 = await call(app, 'GET', '/v1/admin/audit-log?limit=1', { token: admin.accessToken })
  const page2 = await call(app, 'GET', `/v1/admin/audit-log?limit=1&cursor=${page1.json.nextCursor}`, {
    token: admin.accessToken,
  })
  t.not(page1.json.items[0].id, page2.json.items[0].id)
  t.equal((await call(app, 'GET', '/v1/admin/audit-log', { token: other.accessToken })).statusCode, 403)
})

void t.test('category tree administration', async (t) => {
  const app = await build(t)
  const admin = await anAdmin(app)
  const u = await aUser(app)
  const furniture = await categoryId(app.db, 'furniture')
  const created = await call(app, 'POST', '/v1/admin/categories', {
    token: admin.accessToken,
    body: { name: 'Antiques', slug: 'antiques', parentId: furniture },
  })
  t.equal(created.statusCode, 201)
  t.equal(created.json.parentId, furniture)
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/categories', {
        token: admin.accessToken,
        body: { name: 'Dup', slug: 'antiques' },
      })
    ).json.code,
    'SLUG_TAKEN',
  )
  t.equal(
    (
      await call(app, 'POST', '/v1/admin/categories', {
        token: admin.accessToken,
        body: { name: 'Bad', slug: 'Bad Slug' },
      })
    ).statusCode,
    400,
  )
  t.equal(
    (await call(app, 'POST', '/v1/admin/categories', { token: u.accessToken, body: { name: 'X', slug: 'x' } }))
      .statusCode,
    403,
  )

  const tree = await call(app, 'GET', '/v1/categories')
  t.ok(
    tree.json
      .find((c: { slug: string }) => c.slug === 'furniture')
      .children.some((c: { slug: string }) => c.slug === 'antiques'),
    'public tree shows it',
  )

  const cycle = await call(app, 'PATCH', `/v1/admin/categories/${furniture}`, {
    token: admin.accessToken,
    body: { parentId: created.json.id },
  })
  t.equal(cycle.json.code, 'CATEGORY_CYCLE', 'a category cannot move under its own descendant')
  const renamed = await call(app, 'PATCH', `/v1/admin/categories/${created.json.id}`, {
    token: admin.accessToken,
    body: { name: 'Antiques & Vintage', parentId: null },
  })
  t.equal(renamed.json.name, 'Antiques & Vintage')
  t.equal(renamed.json.parentId, null)

  t.equal(
    (await call(app, 'DELETE', `/v1/admin/categories/${furniture}`, { token: admin.accessToken })).json.code,
    'CATEGORY_IN_USE',
    'has children',
  )
  const seller = await aUser(app)
  await aListing(app.db, seller.id, { category_id: created.json.id })
  t.equal(
    (await call(app, 'DELETE', `/v1/admin/categories/${created.json.id}`, { token: admin.accessToken })).json.code,
    'CATEGORY_IN_USE',
    'has listings',
  )
  const list = await call(app, 'GET', '/v1/admin/categories', { token: admin.accessToken })
  t.equal(list.json.find((c: { id: string }) => c.id === created.json.id).listingCount, 1)
  const empty = await call(app, 'POST', '/v1/admin/categories', {
    token: admin.accessToken,
    body: { name: 'Empty', slug: 'empty-cat' },
  })
  t.equal(
    (await call(app, 'DELETE', `/v1/admin/categories/${empty.json.id}`, { token: admin.accessToken })).statusCode,
    204,
  )
  const actions = (await app.db('audit_log').where('target_type', 'category').select('action'))
    .map((r) => r.action)
    .sort()
  t.same(actions, [
    'admin.category_created',
    'admin.category_created',
    'admin.category_deleted',
    'admin.category_updated',
  ])
})

void t.test(
  'browsing a category follows admin edits of the tree: at once on the node that made them, and on other nodes',
  async (t) => {
    const app = await build(t)
    const other = await build(t, {}, { testDb: app.testDb })
    const admin = await anAdmin(app)
    const seller = await aUser(app)
    const furniture = await categoryId(app.db, 'furniture')
    const electronics = await categoryId(app.db, 'electronics')
    const titles = async (node: typeof app, categoryId: string) =>
      ((await call(node, 'GET', `/v1/listings?categoryId=${categoryId}&limit=50`)).json.items as { title: string }[])
        .map((i) => i.title)
        .sort()

    // Both nodes have read (and keep) the tree.
    t.same(await titles(app, furniture), [])
    t.same(await titles(other, furniture), [])

    const antiques = (
      await call(app, 'POST', '/v1/admin/categories', {
        token: admin.accessToken,
        body: { name: 'Antiques', slug: 'antiques', parentId: furniture },
      })
    ).json.id as string
    await aListing(app.db, seller.id, { title: 'Old chest', category_id: antiques })
    t.same(await titles(app, furniture), ['Old chest'], 'the editing node sees the new sub-category at once')
    t.same(await titles(app, antiques), ['Old chest'])
    await new Promise((r) => setTimeout(r, 1_100))
    t.same(
      await titles(other, antiques),
      ['Old chest'],
      'another node finds a category id it did not know by reloading',
    )

    // A move: under Electronics now, no longer under Furniture, on the editing node at once.
    t.equal(
      (
        await call(app, 'PATCH', `/v1/admin/categories/${antiques}`, {
          token: admin.accessToken,
          body: { parentId: electronics },
        })
      ).statusCode,
      200,
    )
    t.same(await titles(app, furniture), [], 'moved out of Furniture')
    t.same(await titles(app, electronics), ['Old chest'], 'and into Electronics')
    // An unknown id is an empty page, not an error, and does not reload on every request.
    t.same(await titles(app, '00000000-0000-4000-8000-000000000000'), [])
  },
)
