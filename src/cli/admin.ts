import { loadConfig } from '../config.js'
import { createDb } from '../db/index.js'

const [command, email] = process.argv.slice(2)
if (command !== 'promote' && command !== 'demote') {
  console.error('usage: npm run admin -- promote <email> | demote <email>')
  process.exit(2)
}
if (!email) {
  console.error('an email is required')
  process.exit(2)
}
const db = await createDb(loadConfig())
try {
  const updated = await db('users')
    .whereRaw('lower(email) = ?', [email.trim().toLowerCase()])
    .update({ role: command === 'promote' ? 'admin' : 'user', updated_at: db.fn.now() })
  if (updated === 0) {
    console.error(`no registered user with email ${email}`)
    process.exitCode = 1
  } else {
    console.log(`${email} is now ${command === 'promote' ? 'an admin' : 'a regular user'}`)
  }
} finally {
  await db.destroy()
}
