/** The public surface of src/mail: other folders import from here, never from its files. */

export { MailSender, enqueueMail } from './mail.service.js'
