import nodemailer, { type Transporter } from 'nodemailer'
import type { FastifyBaseLogger } from 'fastify'
import type { Db, Knex } from '../db/index.js'
import { PollLoop } from '../jobs/index.js'
import { redactSecrets } from '../shared/index.js'
import type { MailOutboxRow } from './mail.tables.js'

export type OutgoingMail = { to: string; subject: string; text: string; html?: string }

/** Queues a mail in the caller's transaction: it is sent only if that change commits. */
export async function enqueueMail(db: Db, mail: OutgoingMail): Promise<void> {
  await db('mail_outbox').insert({
    to_address: mail.to,
    subject: mail.subject,
    text_body: mail.text,
    html_body: mail.html ?? null,
  })
}

/** What a delivery attempt needs of an outbox row. */
type OutboxRow = Pick<MailOutboxRow, 'id' | 'to_address' | 'subject' | 'text_body' | 'html_body' | 'attempts'>

function smtpOptions(smtpUrl: string) {
  const url = new URL(smtpUrl)
  return {
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    ignoreTLS: url.searchParams.get('ignoreTLS') === 'true',
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    connectionTimeout: 5_000,
    greetingTimeout: 5_000,
    socketTimeout: 10_000,
  }
}

export const MAX_MAIL_ATTEMPTS = 12

/** Back-off after the n-th failed attempt: 5 s, 10 s, 20 s, ... capped at one hour. */
/** Mails one pass sends at most. */
const MAIL_BATCH = 20

export const mailBackoffMs = (attempts: number) => Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000)

/**
 * Delivers the outbox: SMTP when SMTP_URL is set, else the log (link tokens redacted). Rows
 * are claimed with SKIP LOCKED, so any number of nodes can run a sender; failures retry with
 * back-off.
 */
export class MailSender {
  private readonly transport: Transporter | undefined
  private readonly loop: PollLoop

  constructor(
    private readonly db: Knex,
    private readonly log: FastifyBaseLogger,
    private readonly opts: { smtpUrl?: string; from: string; pollMs: number },
  ) {
    this.transport = opts.smtpUrl ? nodemailer.createTransport(smtpOptions(opts.smtpUrl)) : undefined
    // The next pass waits its poll interval even after a full batch (as before).
    this.loop = new PollLoop(async () => (await this.deliverDue(), false), {
      pollMs: opts.pollMs,
      log,
      name: 'mail delivery',
    })
  }

  start(): void {
    this.loop.start()
  }

  /** Runs a delivery pass soon (after a mail was queued). */
  kick(): void {
    this.loop.kick()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
    this.transport?.close()
  }

  /** One pass: sends what is due, up to a batch. Returns how many were sent. */
  async deliverDue(batch = MAIL_BATCH): Promise<number> {
    let sent = 0
    await this.db.transaction(async (trx) => {
      const rows = await trx('mail_outbox')
        .where('status', 'pending')
        .andWhere('next_attempt_at', '<=', trx.fn.now())
        .orderBy('next_attempt_at')
        .limit(batch)
        .forUpdate()
        .skipLocked()
        .select('id', 'to_address', 'subject', 'text_body', 'html_body', 'attempts')
      for (const row of rows) {
        try {
          await this.send(row)
          await trx('mail_outbox')
            .where('id', row.id)
            .update({ status: 'sent', sent_at: trx.fn.now(), attempts: row.attempts + 1, last_error: null })
          sent++
        } catch (err) {
          const attempts = row.attempts + 1
          this.log.warn({ err, mailId: row.id, attempts }, 'mail not delivered; will retry')
          await trx('mail_outbox')
            .where('id', row.id)
            .update({
              attempts,
              last_error: String((err as Error).message ?? err).slice(0, 500),
              status: attempts >= MAX_MAIL_ATTEMPTS ? 'failed' : 'pending',
              next_attempt_at: new Date(Date.now() + mailBackoffMs(attempts)),
            })
        }
      }
    })
    return sent
  }

  private async send(row: OutboxRow): Promise<void> {
    if (!this.transport) {
      // The links' tokens are redacted: whoever reads the log must not be able to reset a
      // password or verify an address with them (the full text stays in mail_outbox).
      this.log.info(
        { to: row.to_address, subject: row.subject, text: redactSecrets(row.text_body) },
        'mail (no SMTP_URL: logged, not sent)',
      )
      return
    }
    await this.transport.sendMail({
      from: this.opts.from,
      to: row.to_address,
      subject: row.subject,
      text: row.text_body,
      ...(row.html_body ? { html: row.html_body } : {}),
    })
  }
}
