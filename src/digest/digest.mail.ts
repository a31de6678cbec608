/** One conversation in a digest: who wrote, about what, how many messages are unread. */
export type DigestConversation = {
  conversationId: string
  otherName: string
  /** The listing's (or want's) title, when the conversation has one. */
  about: string | null
  unread: number
}

/** At most this many conversations are listed; the rest are counted. */
export const MAX_LISTED = 10

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`

/** `30 minutes`, `1 hour`, `1.5 hours`; under a minute (tests) in seconds. */
export function waitPhrase(minutes: number): string {
  if (minutes < 1) return plural(Math.max(1, Math.round(minutes * 60)), 'second')
  if (minutes >= 60 && minutes % 30 === 0) return plural(minutes / 60, 'hour')
  return plural(Math.round(minutes * 10) / 10, 'minute')
}

/**
 * The digest mail: the conversations with unread messages (newest first), each with its
 * sender, its unread count and a link into the app, and the unsubscribe link. Plain text:
 * names and titles are the users' own words and go into no markup.
 */
export function digestMail(input: {
  to: string
  name: string
  conversations: DigestConversation[]
  appLinkBase: string
  unsubscribeUrl: string
  minutes: number
}): { to: string; subject: string; text: string } {
  const total = input.conversations.reduce((n, c) => n + c.unread, 0)
  const listed = input.conversations.slice(0, MAX_LISTED)
  const rest = input.conversations.length - listed.length
  const lines = listed.flatMap((c) => [
    `- ${c.otherName}${c.about ? `, about "${c.about}"` : ''}: ${plural(c.unread, 'unread message')}`,
    `  ${input.appLinkBase}/conversations/${c.conversationId}`,
  ])
  if (rest > 0) lines.push(`- and ${plural(rest, 'more conversation')} in the app`)
  const text = [
    `Hello ${input.name},`,
    '',
    `${plural(total, 'message')} ${total === 1 ? 'is' : 'are'} waiting for you on Oja:`,
    '',
    ...lines,
    '',
    'Open a conversation to read and reply.',
    '',
    '-- ',
    `You get this mail when chat messages wait unread for ${waitPhrase(input.minutes)} while you are away from Oja.`,
    `Stop these mails: ${input.unsubscribeUrl}`,
    '',
  ].join('\n')
  return { to: input.to, subject: `You have ${plural(total, 'unread message')} on Oja`, text }
}
