/**
 * The unread-messages digest: chat messages still unread UNREAD_DIGEST_MINUTES after the
 * first of them arrived, with the user away, go out as one mail per user and burst (the
 * sweeper job), listing the conversations with their unread counts, senders and links.
 * Time passes by moving the chat's timestamps back in the database, never by sleeping.
 */
import t from 'tap'
import type { Presence } from '../src/chat/index.js'
import { build, call, type Json, type LooseDb, type TestApp } from './helpers/app.js'
import { aConversation, aMessage } from './factories/chat.js'
import { aListing } from './factories/listings.js'
import { aUser, type SignedInUser } from './factories/users.js'
import { connect, startNodes } from './helpers/nodes.js'

const WINDOW_MINUTES = 3
const ENV = { UNREAD_DIGEST_MINUTES: WINDOW_MINUTES, APP_LINK_BASE: 'https://app.oja.test' }

/** Moves everything the digest reads `seconds` into the past, as if that much time had passed. */
async function timePasses(db: LooseDb, seconds: number): Promise<void> {
  const back = (col: string) => db.raw(`${col} - make_interval(secs => ?)`, [seconds])
  await db('messages').update({ created_at: back('created_at') })
  await db('conversations').update({
    created_at: back('created_at'),
    last_message_at: back('last_message_at'),
    last_activity_at: back('last_activity_at'),
  })
  await db('conversation_reads').update({ message_created_at: back('message_created_at'), read_at: back('read_at') })
  await db('digest_settings').update({ covered_until: back('covered_until'), last_digest_at: back('last_digest_at') })
  await db('digest_runs').update({ burst_start: back('burst_start'), created_at: back('created_at') })
  await db('digest_cursor').update({ scanned_at: back('scanned_at') })
}

/** Spreads messages evenly over the last `seconds`, oldest first (the last one a second ago). */
async function spread(db: LooseDb, ids: string[], seconds: number): Promise<void> {
  const step = seconds / Math.max(1, ids.length - 1)
  for (const [i, id] of ids.entries())
    await db('messages')
      .where('id', id)
      .update({ created_at: db.raw('now() - make_interval(secs => ?)', [seconds - i * step + 1]) })
}

/** One pass of the background jobs (the digest among them); returns the digest's count of bursts closed. */
async function runDigest(app: Pick<TestApp, 'sweeper'>): Promise<number> {
  app.sweeper.start()
  try {
    return (await app.sweeper.runOnce())['unread-digest'] ?? 0
  } finally {
    await app.sweeper.stop()
  }
}

const mailsTo = async (db: LooseDb, user: SignedInUser): Promise<Json[]> =>
  db('mail_outbox')
    .where('to_address', user.email)
    .andWhere('subject', 'like', '%unread message%')
    .orderBy('created_at')

const send = async (app: TestApp, from: SignedInUser, conversationId: string, n: number, text = 'Hello') => {
  const ids: string[] = []
  for (let i = 1; i <= n; i++) ids.push((await aMessage(app, from, conversationId, `${text} ${i}`)).id)
  return ids
}

void t.test('five messages in two minutes to a user away: one mail, once, after the window', async (t) => {
  const app = await build(t, ENV)
  const seller = await aUser(app, { name: 'Sade Seller' })
  const [ada, bola] = await Promise.all([aUser(app, { name: 'Ada Obi' }), aUser(app, { name: 'Bola Ade' })])
  const sofa = await aConversation(app, { buyer: ada, seller, listing: { title: 'Grey sofa' } })
  const lamp = await aConversation(app, { buyer: bola, seller, listing: { title: 'Brass lamp' } })
  const fromAda = await send(app, ada, sofa.conversation.id, 3, 'Is it available?')
  const fromBola = await send(app, bola, lamp.conversation.id, 2, 'Price?')
  // Over two minutes: Ada first, Bola's last one just now.
  await spread(app.db, [...fromAda, ...fromBola], 120)

  t.equal(await runDigest(app), 0, 'the window (3 minutes) has not passed since the first message')
  t.same(await mailsTo(app.db, seller), [])

  await timePasses(app.db, 61)
  t.equal(await runDigest(app), 1, 'one burst closed')
  const [mail, ...more] = await mailsTo(app.db, seller)
  t.same(more, [], 'one mail for the five messages')
  t.equal(mail!.subject, 'You have 5 unread messages on Oja')
  const text = mail!.text_body as string
  t.match(text, /^Hello Sade Seller,/)
  t.match(text, '5 messages are waiting for you on Oja')
  const bolaAt = text.indexOf('- Bola Ade, about "Brass lamp": 2 unread messages')
  const adaAt = text.indexOf('- Ada Obi, about "Grey sofa": 3 unread messages')
  t.ok(bolaAt > 0 && adaAt > bolaAt, 'each conversation with its sender and count, the newest first')
  t.match(text, `  https://app.oja.test/conversations/${lamp.conversation.id}\n`, 'links into the app (APP_LINK_BASE)')
  t.match(text, `  https://app.oja.test/conversations/${sofa.conversation.id}\n`)
  t.match(text, 'while you are away from Oja')
  t.match(text, /Stop these mails: http:\/\/oja\.test\/v1\/digest\/unsubscribe\?token=[0-9a-f-]{36}\.[\w-]{43}\n/)
  t.notMatch(text, 'Is it available', 'no message text in the mail')
  t.same(
    (await app.db('digest_runs').where('user_id', seller.id)).map((r: Json) => [
      r.outcome,
      r.conversations,
      r.messages,
    ]),
    [['mailed', 2, 5]],
  )

  t.equal(await runDigest(app), 0, 'the next pass finds nothing new')
  await timePasses(app.db, 600)
  t.equal(await runDigest(app), 0, 'nor one much later: the burst was mailed once')
  t.equal((await mailsTo(app.db, seller)).length, 1)
  t.same(await mailsTo(app.db, ada), [], 'the senders get nothing: they have read their own messages')

  // A second burst after the first mail: a second mail, after its own window.
  const later = await send(app, ada, sofa.conversation.id, 2, 'Still there?')
  t.equal(await runDigest(app), 0, 'not before its window')
  await timePasses(app.db, WINDOW_MINUTES * 60 + 1)
  t.equal(await runDigest(app), 1)
  const second = (await mailsTo(app.db, seller))[1]!
  t.ok(second, 'a second mail')
  t.equal(second.subject, 'You have 5 unread messages on Oja', 'the conversation with new messages, as unread as it is')
  t.match(second.text_body, '- Ada Obi, about "Grey sofa": 5 unread messages')
  t.notMatch(second.text_body, 'Bola Ade', 'only conversations with messages since the last mail')
  const runs = await app.db('digest_runs').where('user_id', seller.id).orderBy('burst_start')
  t.same(
    runs.map((r: Json) => [r.outcome, r.messages]),
    [
      ['mailed', 5],
      ['mailed', 2],
    ],
  )
  const first = await app.db('messages').where('id', later[0]).first('created_at')
  t.same(runs[1].burst_start, first.created_at, 'the second burst starts at its first message')
})

void t.test('nothing when the messages were read first; only what is left unread otherwise', async (t) => {
  const app = await build(t, ENV)
  const [buyer, seller] = await Promise.all([aUser(app, { name: 'Bola' }), aUser(app, { name: 'Sade' })])
  const { conversation } = await aConversation(app, { buyer, seller })
  const ids = await send(app, buyer, conversation.id, 5)
  await spread(app.db, ids, 120)
  const read = await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
    token: seller.accessToken,
    body: { upToMessageId: ids[4] },
  })
  t.equal(read.statusCode, 200)
  await timePasses(app.db, 3600)
  t.equal(await runDigest(app), 0)
  t.same(await mailsTo(app.db, seller), [], 'read before the window passed: no mail')
  t.same(await app.db('digest_runs'), [])

  // Read up to the third of five: the last two are a burst of their own, from the fourth.
  const more = await send(app, buyer, conversation.id, 5, 'More')
  await spread(app.db, more, 120)
  await call(app, 'POST', `/v1/conversations/${conversation.id}/read`, {
    token: seller.accessToken,
    body: { upToMessageId: more[2] },
  })
  await timePasses(app.db, 61)
  t.equal(await runDigest(app), 0, 'the fourth message is not yet three minutes old')
  await timePasses(app.db, 90)
  t.equal(await runDigest(app), 1)
  const [mail] = await mailsTo(app.db, seller)
  t.equal(mail?.subject, 'You have 2 unread messages on Oja')
})

void t.test('the unsubscribe link turns the digest off', async (t) => {
  const app = await build(t, ENV)
  const [buyer, seller] = await Promise.all([aUser(app), aUser(app)])
  const { conversation } = await aConversation(app, { buyer, seller })
  await send(app, buyer, conversation.id, 1)
  await timePasses(app.db, 3600)
  t.equal(await runDigest(app), 1)
  const [mail] = await mailsTo(app.db, seller)
  t.equal(mail?.subject, 'You have 1 unread message on Oja')
  const link = new URL(/Stop these mails: (\S+)/.exec(mail!.text_body)![1]!)

  const tampered = link.searchParams.get('token')!.replace(/\.(.)/, (_m, c: string) => `.${c === 'A' ? 'B' : 'A'}`)
  const bad = await call(app, 'GET', `${link.pathname}?token=${tampered}`)
  t.equal(bad.statusCode, 400)
  t.equal(bad.json.code, 'DIGEST_LINK_INVALID')
  const other = await call(
    app,
    'GET',
    `${link.pathname}?token=${buyer.id}.${link.searchParams.get('token')!.split('.')[1]}`,
  )
  t.equal(other.json.code, 'DIGEST_LINK_INVALID', "one user's signature does not unsubscribe another")
  t.equal((await call(app, 'GET', `${link.pathname}?token=nonsense`)).json.code, 'VALIDATION_FAILED')
  t.equal((await call(app, 'GET', link.pathname)).statusCode, 400)
  t.same(await app.db('digest_settings').where({ off: true }), [], 'nothing changed')

  const page = await call(app, 'GET', `${link.pathname}${link.search}`, { headers: { accept: 'text/html,*/*' } })
  t.equal(page.statusCode, 200, 'opened from the mail, signed out')
  t.match(page.headers['content-type'], /^text\/html/)
  t.match(page.body, 'no more mails about unread messages')
  const json = await call(app, 'GET', `${link.pathname}${link.search}`, { headers: { accept: 'application/json' } })
  t.equal(json.statusCode, 200, 'twice is fine')
  t.same(json.json, { unreadDigest: false })
  t.equal((await app.db('digest_settings').where('user_id', seller.id).first()).off, true)

  await send(app, buyer, conversation.id, 3, 'Hello again')
  await timePasses(app.db, 3600)
  t.equal(await runDigest(app), 0)
  t.equal((await mailsTo(app.db, seller)).length, 1, 'no digest once it is off')

  // Someone else's digest is untouched: the seller writes back to the buyer, who gets one.
  await send(app, seller, conversation.id, 1, 'Yes, still here')
  await timePasses(app.db, 3600)
  t.equal(await runDigest(app), 1)
  t.equal((await mailsTo(app.db, buyer)).length, 1)
})

void t.test('a user online (on another node) at the deadline gets none; away, they do', async (t) => {
  const {
    nodes: [a, b],
  } = await startNodes(t, 2, () => ({ env: ENV }))
  const app = a!.app as unknown as TestApp
  const [buyer, seller] = await Promise.all([aUser(app), aUser(app)])
  const listing = await aListing(app.db, seller.id)
  const opened = await call(app, 'POST', '/v1/conversations', {
    token: buyer.accessToken,
    body: { listingId: listing.id },
  })
  const conversationId = opened.json.id as string
  const live = await connect(t, b!, { token: seller.accessToken })

  await send(app, buyer, conversationId, 3)
  await timePasses(app.db, 3600)
  t.equal(await runDigest(a!.app), 1, 'the burst is closed...')
  t.same(await mailsTo(app.db, seller), [], '...without a mail: the seller is online (node B), node A asked')
  t.same(
    (await app.db('digest_runs').where('user_id', seller.id)).map((r: Json) => r.outcome),
    ['online'],
  )

  live.socket.disconnect()
  await new Promise((r) => setTimeout(r, 200))
  t.equal(await runDigest(a!.app), 0, 'the closed burst stays closed')
  await send(app, buyer, conversationId, 1, 'Are you there?')
  await timePasses(app.db, 3600)
  t.equal(await runDigest(a!.app), 1)
  const [mail] = await mailsTo(app.db, seller)
  t.equal(mail?.subject, 'You have 4 unread messages on Oja', 'away now: the next burst is mailed')
})

void t.test('presence that fails counts as away (the mail rather than nothing)', async (t) => {
  const presence: Presence = { isOnline: () => Promise.reject(new Error('redis down')) }
  const app = await build(t, ENV, { presence })
  const [buyer, seller] = await Promise.all([aUser(app), aUser(app)])
  const { conversation } = await aConversation(app, { buyer, seller })
  await send(app, buyer, conversation.id, 1)
  await timePasses(app.db, 3600)
  t.equal(await runDigest(app), 1)
  t.equal((await mailsTo(app.db, seller)).length, 1)
})
