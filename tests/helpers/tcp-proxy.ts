import net from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A loopback TCP proxy to a real service (PostgreSQL, Redis) that a test can cut and
 * restore: an outage of that service for the app behind it, without disturbing anyone
 * else using the real server.
 */
export async function tcpProxy(targetPort: number, targetHost = '127.0.0.1') {
  const sockets = new Set<net.Socket>()
  let up = true
  const server = net.createServer((client) => {
    if (!up) return client.destroy()
    const upstream = net.connect(targetPort, targetHost)
    sockets.add(client).add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    port,
    /** Drops every open connection and refuses new ones. */
    cut() {
      up = false
      for (const s of sockets) s.destroy()
      sockets.clear()
    },
    restore() {
      up = true
    },
    async close() {
      this.cut()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
