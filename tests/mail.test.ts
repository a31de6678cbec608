import t, { type Test } from 'tap'
import { SMTPServer } from 'smtp-server'
import type { AddressInfo } from 'node:net'
import { build, call } from './helpers/app.js'

/** A local SMTP fake: records messages, and can refuse them until told to accept. */
async function smtpFake(t: Test) {
  const received: { to: string[]; raw: string }[] = []
  const state = { accept: false }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let raw = ''
      stream.on('data', (c: Buffer) => (raw += c.toString()))
      stream.on('end', () => {
        if (!state.accept) return callback(new Error('451 try later'))
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw })
        callback()
      })
    },
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { received, state, port: (server.server.address() as AddressInfo).port }
}

void t.test('a mail is not lost when SMTP refuses at first', async (t) => {
  const smtp = await smtpFake(t)
  const app = await build(t, { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'Oja <no-reply@oja.test>' })
  const email = 'mailtest@test.oja'
  t.equal(
    (await call(app, 'POST', '/v1/auth/register', { body: { email, password: 'long enough pw', name: 'M' } }))
      .statusCode,
    201,
    'the request does not wait for mail',
  )

  t.equal(await app.mail.deliverDue(), 0, 'first attempt refused')
  const row = await app.db('mail_outbox').where('to_address', email).first()
  t.equal(row.status, 'pending')
  t.equal(row.attempts, 1)
  t.ok(row.next_attempt_at > new Date(), 'retry scheduled later (back-off)')
  t.match(row.last_error, /try later/)

  smtp.state.accept = true
  t.equal(await app.mail.deliverDue(), 0, 'not due yet')
  await app
    .db('mail_outbox')
    .where('id', row.id)
    .update({ next_attempt_at: new Date(Date.now() - 1) })
  t.equal(await app.mail.deliverDue(), 1)
  t.equal(smtp.received.length, 1)
  t.same(smtp.received[0]!.to, [email])
  t.match(smtp.received[0]!.raw.replace(/=\r?\n/g, ''), /verify-email\?token(=3D|=)/)
  const sent = await app.db('mail_outbox').where('id', row.id).first()
  t.equal(sent.status, 'sent')
  t.equal(await app.mail.deliverDue(), 0, 'sent once only')
})

void t.test('a failed registration queues no mail', async (t) => {
  const app = await build(t)
  await call(app, 'POST', '/v1/auth/register', {
    body: { email: 'dup@test.oja', password: 'long enough pw', name: 'M' },
  })
  await call(app, 'POST', '/v1/auth/register', {
    body: { email: 'dup@test.oja', password: 'long enough pw', name: 'M' },
  })
  const n = await app.db('mail_outbox').where('to_address', 'dup@test.oja').count({ n: '*' }).first()
  t.equal(Number(n?.n), 1)
})
