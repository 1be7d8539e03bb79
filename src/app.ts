// The application as a Fastify plugin, with its plugins registered in an explicit order:
//   error handling -> metrics -> auth -> rate limit -> swagger -> db -> store -> lease -> sessions -> cleanup -> routes.
// Tests build it with buildApp() and use app.inject; only server.ts listens.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import fp from 'fastify-plugin'
import pino, { type Logger } from 'pino'
import type { AppConfig } from './config.js'
import { registerErrorHandling } from './errors.js'
import type { AuthStateHandle, OpenOptions, SessionStore, SessionStoreOptions } from './keystore/types.js'
import authPlugin from './plugins/auth.js'
import cleanupPlugin from './plugins/cleanup.js'
import dbPlugin from './plugins/db.js'
import metricsPlugin from './plugins/metrics.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import leasePlugin from './plugins/lease.js'
import sessionsPlugin from './plugins/sessions.js'
import storePlugin from './plugins/store.js'
import swaggerPlugin from './plugins/swagger.js'
import opsRoutes from './routes/ops.js'
import sessionRoutes from './routes/whatsapp/session.js'
import sessionsRoutes from './routes/whatsapp/sessions.js'
import { ErrorBody } from './schemas/common.js'

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig
  }
}

export interface AppOptions {
  config: AppConfig
  /** The root pino logger (app.log is typed as Fastify's base logger; sessions and the store need pino's). */
  logger: Logger
  /** Start the CLIENT_ID session at boot (default true; the bench and some tests turn it off). */
  startDefaultSession?: boolean
  /** How a session opens its stored state (the lease integration); default store.open(clientId). */
  openHandle?: (clientId: string, options: OpenOptions) => Promise<AuthStateHandle>
  /** Replaces the keystore factory; defaults to createSessionStore from src/keystore. */
  createStore?: (options: SessionStoreOptions) => Promise<SessionStore>
}

/** Paths pino must never print: API keys, QR strings, and anything that looks like session contents. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-api-key"]',
  'apiKey',
  'qr',
  '*.qr',
  'creds',
  '*.creds',
  'keys',
  '*.keys',
  'databaseUrl',
  'encryptionKey',
]

export function createLogger(config: Pick<AppConfig, 'logLevel' | 'nodeEnv'>): Logger {
  return pino({
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'whatsapp-backend' },
  })
}

export const appPlugin = fp<AppOptions>(
  async (app, options) => {
    const { config } = options
    app.decorate('config', config)
    registerErrorHandling(app)
    app.addSchema(ErrorBody)
    // Callback style: this runs on every response, and an async hook costs a promise per request.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id)
      done(null, payload)
    })

    await app.register(metricsPlugin)
    await app.register(authPlugin, { apiKey: config.apiKey })
    await app.register(rateLimitPlugin, { max: config.rateLimit.max, windowMs: config.rateLimit.windowMs })
    await app.register(swaggerPlugin, { secured: Boolean(config.apiKey) })
    await app.register(dbPlugin, { config, logger: options.logger })
    await app.register(storePlugin, { config, logger: options.logger, createStore: options.createStore })
    await app.register(leasePlugin, { config, logger: options.logger })
    await app.register(sessionsPlugin, {
      config,
      logger: options.logger,
      openHandle: options.openHandle,
      startDefault: options.startDefaultSession ?? true,
    })
    await app.register(cleanupPlugin, { config })

    await app.register(opsRoutes)
    await app.register(sessionRoutes, { prefix: '/api/whatsapp' })
    await app.register(sessionsRoutes, { prefix: '/api/whatsapp' })
  },
  { name: 'whatsapp-backend', fastify: '5.x' },
)

function createFastify(config: AppConfig, logger: Logger) {
  return Fastify({
    loggerInstance: logger,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Behind Fly.io/Render proxies the client IP (rate-limit key) is in X-Forwarded-For.
    trustProxy: config.nodeEnv === 'production',
    bodyLimit: 256 * 1024,
  })
}

export type App = ReturnType<typeof createFastify>

/** A ready-to-use app (not listening). The caller owns it and must close() it. */
export async function buildApp(options: Omit<AppOptions, 'logger'> & { logger?: Logger }): Promise<App> {
  const logger = options.logger ?? createLogger(options.config)
  const app = createFastify(options.config, logger)
  try {
    await app.register(appPlugin, { ...options, logger })
    await app.ready()
  } catch (err) {
    await app.close().catch(() => undefined)
    throw err
  }
  return app
}
