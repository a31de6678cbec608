import t from 'tap'
import { build } from './helpers/app.js'
import { aUser } from './factories/users.js'
import { audit } from '../src/audit/audit.service.js'

void t.test('the audit log is append-only in the database itself', async (t) => {
  const app = await build(t)
  const u = await aUser(app)
  await audit(
    { db: app.db, actor: { id: u.id, role: 'user', sessionId: 's' }, requestId: 'req-1' },
    { action: 'test.done', targetType: 'user', targetId: u.id, before: { a: 1 }, after: { a: 2 }, note: 'why' },
  )
  const row = await app.db('audit_log').first()
  t.equal(row.action, 'test.done')
  t.same(row.after, { a: 2 })
  t.equal(row.request_id, 'req-1')
  await t.rejects(app.db('audit_log').update({ note: 'rewritten' }), /append-only/, 'UPDATE refused')
  await t.rejects(app.db('audit_log').delete(), /append-only/, 'DELETE refused')
  await t.rejects(app.db.raw('truncate audit_log'), /append-only/, 'TRUNCATE refused')
  t.equal((await app.db('audit_log').first()).note, 'why', 'row unchanged')
})
