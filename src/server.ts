import closeWithGrace from 'close-with-grace'
import { ConfigError, assertSafeToServe, loadConfig } from './config.js'
import { buildNode } from '../realtime/index.js'

let config
try {
  config = loadConfig()
  assertSafeToServe(config)
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(1)
  }
  throw err
}

const started = performance.now()
const { app } = await buildNode(config)

// In-flight requests finish, sockets are told to go, then the pool closes (app onClose hooks).
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'closing after an error')
  else app.log.info({ signal }, 'closing')
  await app.close()
})

await app.listen({ port: config.PORT, host: config.HOST })
app.log.info(
  {
    coldStartMs: Math.round(performance.now() - started),
    database: config.DATABASE_URL ? 'postgresql' : 'pglite',
    docs: `${config.publicUrl}/docs`,
  },
  'Oja is ready',
)
