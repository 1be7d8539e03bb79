// The application as a Fastify plugin, with its plugins registered in an explicit order:
//   metrics -> rate limit -> auth -> error handling -> swagger -> db -> events -> store -> cluster -> lease -> sessions -> cleanup -> messages -> webhooks -> routing -> routes.
// Tests build it with buildApp() and use app.inject; only server.ts listens.
import { randomUUID } from 'node:crypto'
import type { AgentOptions } from 'node:https'
import Fastify, { type FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import pino, { type DestinationStream, type Logger } from 'pino'
import type { AppConfig } from './config.js'
import { ApiError, registerErrorHandling, sendError, validationError } from './errors.js'
import { createClientErrorHandler } from './http/client-errors.js'
import { clientIpResolver, fastifyTrustProxy } from './http/client-ip.js'
import { redactUrl } from './http/redact-url.js'
import { assertStrictSchemas, createValidatorFactory } from './http/validation.js'
import { CLIENT_ID_MAX_LENGTH } from './lib/client-id.js'
import type { MessageStore } from './messages/store/types.js'
import type { AuthStateHandle, OpenOptions, SessionStore, SessionStoreOptions } from './keystore/types.js'
import authPlugin from './plugins/auth.js'
import cleanupPlugin from './plugins/cleanup.js'
import clusterPlugin from './plugins/cluster.js'
import dbPlugin from './plugins/db.js'
import eventsPlugin from './plugins/events.js'
import metricsPlugin from './plugins/metrics.js'
import rateLimitPlugin from './plugins/rate-limit.js'
import routingPlugin from './plugins/routing.js'
import leasePlugin from './plugins/lease.js'
import messagesPlugin from './plugins/messages.js'
import sessionsPlugin from './plugins/sessions.js'
import storePlugin from './plugins/store.js'
import swaggerPlugin from './plugins/swagger.js'
import webhooksPlugin from './plugins/webhooks.js'
import type { EventOutbox } from './events/types.js'
import opsRoutes from './routes/ops.js'
import whatsappRoutes from './routes/whatsapp/index.js'
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
  /** TLS options of the media URL fetcher (tests trust a local certificate through it). */
  mediaAgentOptions?: AgentOptions
  /** Wraps the message store (the send benchmark measures with it switched off). */
  wrapMessageStore?: (store: MessageStore) => MessageStore
  /** Heartbeat period of GET /events/stream (default 15 s; tests shorten it). */
  eventsHeartbeatMs?: number
  /** Replaces the event outbox the webhooks deliver from (tests give an in-memory one); default the events plugin's. */
  eventOutbox?: EventOutbox
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

/** The app's pino logger; `destination` defaults to stdout. */
export function createLogger(config: Pick<AppConfig, 'logLevel' | 'trustProxy'>, destination?: DestinationStream): Logger {
  const clientIp = clientIpResolver(config.trustProxy)
  return pino(
    {
      level: config.logLevel,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'whatsapp-backend' },
      serializers: {
        // Fastify's request serializer, with secrets cut out of the query string and the client IP
        // taken where TRUST_PROXY says.
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: redactUrl(request.url),
          host: request.host,
          remoteAddress: clientIp(request),
          remotePort: request.socket?.remotePort,
        }),
      },
    },
    destination,
  )
}

export const appPlugin = fp<AppOptions>(
  async (app, options) => {
    const { config } = options
    app.decorate('config', config)
    app.addSchema(ErrorBody)
    // Every route declares what it accepts, and nothing more (see src/http/validation.ts).
    app.addHook('onRoute', assertStrictSchemas)
    // The API takes JSON only: anything else is 415, not a string that fails validation.
    app.removeContentTypeParser('text/plain')
    // Callback style: this runs on every response, and an async hook costs a promise per request.
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id)
      done(null, payload)
    })

    await app.register(metricsPlugin)
    await app.register(rateLimitPlugin, { max: config.rateLimit.max, windowMs: config.rateLimit.windowMs, trustProxy: config.trustProxy })
    await app.register(authPlugin, { apiKey: config.apiKey })
    registerErrorHandling(app)
    // Unknown paths count against the caller's rate limit like any route.
    app.setNotFoundHandler({ preHandler: app.rateLimit() }, (request, reply) => sendError(request, reply, new ApiError('NOT_FOUND')))
    await app.register(swaggerPlugin, { secured: Boolean(config.apiKey) })
    await app.register(dbPlugin, { config, logger: options.logger })
    // Before the sessions, so the event outbox closes after they stopped (see src/plugins/events.ts).
    await app.register(eventsPlugin, { config, logger: options.logger, heartbeatMs: options.eventsHeartbeatMs })
    await app.register(storePlugin, { config, logger: options.logger, createStore: options.createStore })
    await app.register(clusterPlugin, { config, logger: options.logger })
    await app.register(leasePlugin, { config, logger: options.logger })
    await app.register(sessionsPlugin, {
      config,
      logger: options.logger,
      openHandle: options.openHandle,
      startDefault: options.startDefaultSession ?? true,
    })
    await app.register(cleanupPlugin, { config })
    await app.register(messagesPlugin, {
      config,
      logger: options.logger,
      mediaAgentOptions: options.mediaAgentOptions,
      wrapStore: options.wrapMessageStore,
    })
    // After the sessions (it delivers for the ones this instance holds); closed before them and
    // before the outbox (Fastify closes later plugins first).
    await app.register(webhooksPlugin, { config, logger: options.logger, outbox: options.eventOutbox ?? app.events.outbox })
    await app.register(routingPlugin, {
      directory: app.cluster.directory,
      retryAfterSeconds: Math.max(1, Math.ceil(config.lease.ttlMs / 1000)),
      forwardTimeoutMs: config.forwardTimeoutMs,
    })

    await app.register(opsRoutes)
    await app.register(whatsappRoutes, { prefix: '/api/whatsapp' })
  },
  { name: 'whatsapp-backend', fastify: '5.x' },
)

/** Largest JSON body accepted (the catalogue's PAYLOAD_TOO_LARGE sentence says 256 KiB). */
const BODY_LIMIT = 256 * 1024

function createFastify(config: AppConfig, logger: Logger) {
  return Fastify({
    loggerInstance: logger,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: BODY_LIMIT,
    // Node answers 408 to a request not received completely in time (a Content-Length it never
    // sends), checked every second at most; Fastify's default is no limit at all.
    requestTimeout: config.requestTimeoutMs,
    http: { requestTimeout: config.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs) },
    // Every valid client id (at most 128 characters) fits a path parameter; a somewhat longer one
    // still reaches validation and gets a 400 naming params.clientId, an absurd one a 414.
    routerOptions: { maxParamLength: 2 * CLIENT_ID_MAX_LENGTH },
    schemaController: { compilersFactory: { buildValidator: createValidatorFactory() } },
    schemaErrorFormatter: (errors, part) => validationError(errors, part),
    // Requests still arriving on open connections during app.close() get SHUTTING_DOWN in the one
    // error shape (errors.ts), not Fastify's own 503 body.
    return503OnClosing: false,
    // Errors Fastify raises before routing (an undecodable URL, a path parameter too long): no hook
    // ran, so authenticate here first, then answer in the one error shape.
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id)
      request.server.authenticate(request, reply).then(
        () => sendError(request, reply, err),
        (authError: unknown) => sendError(request, reply, authError),
      )
    },
    // Node rejects oversized headers, incomplete requests and malformed HTTP before Fastify sees them.
    clientErrorHandler: createClientErrorHandler(logger),
  }).withTypeProvider<TypeBoxTypeProvider>()
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
