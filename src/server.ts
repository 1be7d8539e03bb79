// Entry point: the only file that reads process.env. Validates the config, builds the app, listens on
// HOST:PORT, and shuts down gracefully on SIGTERM/SIGINT (stop taking requests, stop the sessions,
// flush the keystore, close the database pool) within SHUTDOWN_TIMEOUT_MS.
import { setFlagsFromString } from 'node:v8'
import { buildApp, createLogger } from './app.js'
import { ConfigError, loadConfig, type AppConfig } from './config.js'
import { assertReceiptHookPatched } from './whatsapp/baileys-patch.js'
import { enforceSignatureVerification } from './whatsapp/signature-verification.js'

function readConfig(): AppConfig {
  try {
    return loadConfig(process.env)
  } catch (err) {
    // A config error is the operator's to fix: say what, without a stack trace or any value.
    if (err instanceof ConfigError) {
      console.error(err.message)
      process.exit(1)
    }
    throw err
  }
}

async function main(): Promise<void> {
  const config = readConfig()
  // Once the process turns idle after a burst (a restart's resume, a reconnect storm, many links), V8's
  // memory reducer runs up to three full collections of the whole heap in a row; the first returns
  // nearly all the memory, and with hundreds of sessions each one costs a third of a core-second.
  setFlagsFromString('--memory-reducer-single-gc')
  // Baileys rc14 accepts any Curve signature (see the module): fix that before any socket exists.
  enforceSignatureVerification()
  // Incoming messages are stored before their receipt only with the receipt patch installed.
  try {
    assertReceiptHookPatched()
  } catch (err) {
    console.error((err as Error).message)
    process.exit(1)
  }
  const logger = createLogger(config)
  const app = await buildApp({ config, logger })

  let closing = false
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) return
    closing = true
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down')
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown did not finish in time; exiting anyway')
      process.exit(1)
    }, config.shutdownTimeoutMs)
    timer.unref()
    app.close().then(
      () => {
        logger.info('shutdown complete')
        process.exit(0)
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)

  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    logger.fatal({ err, host: config.host, port: config.port }, 'could not listen')
    await app.close().catch(() => undefined)
    process.exit(1)
  }
}

main().catch((err: unknown) => {
  console.error('whatsapp-backend failed to start:', err instanceof Error ? err.message : err)
  process.exit(1)
})
