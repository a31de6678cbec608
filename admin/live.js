// The admin room of the live gateway: admin:flag, admin:report and admin:dispute as they happen.
import { io } from '/admin/vendor/socket.io.js'
import { currentSession, onSession } from './api.js'

export const ADMIN_EVENTS = ['admin:flag', 'admin:report', 'admin:dispute']

let socket = null
const listeners = new Set()

/** `fn(event, data)` for every admin event (and `live:reconnected` after a reconnect); returns the unsubscribe. */
export function onAdminEvent(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

const statusListeners = new Set()
let connected = false
/** `fn(connected)` when the live connection comes or goes. */
export function onLiveStatus(fn) {
  statusListeners.add(fn)
  fn(connected)
  return () => statusListeners.delete(fn)
}
const setConnected = (value) => {
  connected = value
  statusListeners.forEach((fn) => fn(value))
}

function start() {
  // The handshake asks for the current token each time, so a reconnect uses the refreshed one.
  socket = io({ path: '/socket.io/', auth: (cb) => cb({ token: currentSession()?.accessToken }) })
  let connections = 0
  socket.on('connect', () => {
    setConnected(true)
    // Admin events are not stored: after a reconnect, the pages read their queues again.
    if (++connections > 1) listeners.forEach((fn) => fn('live:reconnected', null))
  })
  socket.on('disconnect', () => setConnected(false))
  socket.on('session:ended', () => socket?.disconnect())
  for (const event of ADMIN_EVENTS) socket.on(event, (payload) => listeners.forEach((fn) => fn(event, payload?.data)))
}

let lastToken = null
onSession((session) => {
  if (!session) {
    socket?.disconnect()
    socket = null
    lastToken = null
    setConnected(false)
    return
  }
  if (!socket) start()
  else if (session.accessToken !== lastToken && socket.connected)
    // The same session's fresh token, so the connection outlives the old one's expiry.
    socket.emit('auth:refresh', { token: session.accessToken }, () => {})
  lastToken = session.accessToken
})
