/** The public surface of src/mail: other folders import from here, never from its files. */

/** Queues a mail in the caller's transaction; the sender (app.ts starts it) delivers the outbox. */
export { MailSender, enqueueMail } from './mail.service.js'
