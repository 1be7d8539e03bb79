// Webhook delivery as the `webhooks` decorator: the per-session webhook API's service, and the worker
// that delivers the stored events of the sessions this instance holds to WEBHOOK_URL and to each
// session's own webhook. State in Postgres (migration 007) or SESSION_PATH/.webhooks in file mode.
// Without an event outbox (none given) the API still stores webhooks, and nothing is delivered.
import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import type { EventOutbox } from '../events/types.js'
import type { BackoffOptions } from '../lib/backoff.js'
import { systemClock, type Clock } from '../lib/clock.js'
import { createSealer } from '../messages/payload.js'
import { createPoster } from '../webhooks/http.js'
import { createWebhookMetrics } from '../webhooks/metrics.js'
import { createWebhookService, type WebhookService } from '../webhooks/service.js'
import { createFileWebhookStore } from '../webhooks/store/file.js'
import { createPostgresWebhookStore } from '../webhooks/store/postgres.js'
import type { Endpoint, WebhookStore } from '../webhooks/types.js'
import { createWebhookWorker, type WebhookWorker } from '../webhooks/worker.js'

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: { service: WebhookService; store: WebhookStore; worker: () => WebhookWorker | null }
  }
}

export interface WebhooksPluginOptions {
  config: Pick<AppConfig, 'webhooks' | 'sessionPath' | 'encryptionKey' | 'events'>
  logger: Logger
  outbox: EventOutbox | null
  clock?: Clock
  wallNow?: () => number
  backoff?: BackoffOptions
  pollMs?: number
  flushMs?: number
}

/** First retry after about a second, then doubling up to five minutes (jittered). */
export const WEBHOOK_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 300_000 }
const POLL_MS = 5_000
const FLUSH_MS = 250
const PURGE_EVERY_MS = 3_600_000

export default fp<WebhooksPluginOptions>(
  async (app, { config, logger, outbox, clock = systemClock, wallNow = Date.now, backoff = WEBHOOK_BACKOFF, pollMs = POLL_MS, flushMs = FLUSH_MS }) => {
    const log = logger.child({ component: 'webhooks' })
    const c = config.webhooks
    const sealer = createSealer(config.encryptionKey)
    const sql = app.db.sql
    const store = sql ? createPostgresWebhookStore({ sql, sealer }) : createFileWebhookStore({ dir: join(config.sessionPath, '.webhooks'), sealer })
    const global: Endpoint | null = c.global ? { kind: 'global', url: new URL(c.global.url), secrets: c.global.secrets, events: c.global.events, headers: {} } : null
    let worker: WebhookWorker | null = null
    const sessions = app.sessions
    const service = createWebhookService({
      store,
      outbox,
      allowedHosts: c.allowedHosts,
      sessionExists: async (clientId) => sessions.isRunning(clientId) || (await app.store.list()).some((s) => s.clientId === clientId),
      changed: (clientId, hook) => worker?.hookChanged(clientId, hook),
      requeued: (clientId) => worker?.requeued(clientId),
    })
    app.decorate('webhooks', { service, store, worker: () => worker })
    if (!outbox) {
      if (global) log.warn('WEBHOOK_URL is set but no event outbox runs: nothing is delivered')
      return
    }
    const poster = createPoster()
    const metrics = createWebhookMetrics(app.metrics.registry, () => worker?.depths() ?? [])
    // Deliveries start once the server listens; stop before the sessions do (later plugins close first).
    app.addHook('onReady', async () => {
      worker = createWebhookWorker({
        outbox, store, global, poster, clock, wallNow, random: Math.random, backoff, metrics, log,
        timeoutMs: c.timeoutMs,
        maxAgeMs: c.maxAgeMs,
        sessions: () => sessions.list().map((s) => s.clientId),
        isLocal: sessions.isLocal,
        pollMs,
        flushMs,
      })
      worker.start()
      purgeTimer = setInterval(() => void purge(), PURGE_EVERY_MS)
      purgeTimer.unref()
      void purge()
    })
    // Dead letters older than the events' retention cannot be redelivered: they go with them.
    let purgeTimer: NodeJS.Timeout | null = null
    async function purge(): Promise<void> {
      try {
        const removed = await store.purge(new Date(wallNow() - config.events.retentionHours * 3_600_000))
        if (removed > 0) log.info({ removed }, 'expired webhook dead letters removed')
      } catch (err) {
        log.warn({ err }, 'removing expired webhook dead letters failed; it runs again later')
      }
    }
    app.addHook('onClose', async () => {
      if (purgeTimer) clearInterval(purgeTimer)
      await worker?.stop()
      poster.close()
      await store.close()
    })
  },
  { name: 'webhooks', fastify: '5.x', dependencies: ['db', 'store', 'sessions', 'metrics'] },
)
