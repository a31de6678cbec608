import { defineError } from '../shared/index.js'

/** The error codes of wants (stable; clients switch on `code`). */
export const WantErrors = {
  /** No such want (chat answers a conversation about a missing want with it too). */
  wantNotFound: defineError('WANT_NOT_FOUND', 404, 'Want not found'),
  /** The want's author closed it: no more answers or conversations about it. */
  wantClosed: defineError('WANT_CLOSED', 409, 'This want is closed'),
  ownWant: defineError('OWN_WANT', 409, 'You cannot answer your own want'),
}
