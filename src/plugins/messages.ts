// Sending beyond text and what keeps it reliable, as the `messages` decorator: the message store
// (retry receipts, replies, status, media download), idempotency keys, the outbound queue and its
// worker, the media fetcher, and the status tracker observing every session. Postgres tables in
// Postgres mode, files under SESSION_PATH/.messages otherwise. Background work (the queue worker,
// the retention purge) starts once the server listens and stops on close.
import { join } from 'node:path'
import type { AgentOptions } from 'node:https'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import { systemClock, type Clock } from '../lib/clock.js'
import { boundedIdempotency, boundedQueue } from '../messages/bounded.js'
import { withAnswersBehind } from '../messages/idempotency/behind.js'
import { createFileIdempotencyStore } from '../messages/idempotency/file.js'
import { createPostgresIdempotencyStore } from '../messages/idempotency/postgres.js'
import { messagePurgeCutoff, type IdempotencyStore } from '../messages/idempotency/types.js'
import { createInflight } from '../messages/inflight.js'
import { createMediaFetcher, type MediaFetcher } from '../messages/media/fetch.js'
import { createAddressGuard } from '../messages/media/guard.js'
import { createSealer } from '../messages/payload.js'
import { createFileQueueStore } from '../messages/queue/file.js'
import { createPostgresQueueStore } from '../messages/queue/postgres.js'
import type { QueueStore } from '../messages/queue/types.js'
import { createQueueWorker, type DeliveryResult } from '../messages/queue/worker.js'
import { createSender } from '../messages/sender.js'
import { createMessageService, type MessageService } from '../messages/service.js'
import { createStatusTracker } from '../messages/status.js'
import { createFallbackMessageStore } from '../messages/store/fallback.js'
import { createFileMessageStore } from '../messages/store/file.js'
import { createPostgresMessageStore } from '../messages/store/postgres.js'
import { createSendWrites } from '../messages/postgres-writes.js'
import type { MessageStore } from '../messages/store/types.js'
import { MessageError } from '../messages/errors.js'
import { SessionError } from '../whatsapp/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    messages: {
      service: MessageService
      store: MessageStore
      idempotency: IdempotencyStore
      queue: QueueStore
      fetcher: MediaFetcher
    }
  }
}

export interface MessagesPluginOptions {
  config: Pick<AppConfig, 'sessionPath' | 'encryptionKey' | 'messages'>
  logger: Logger
  clock?: Clock
  /** TLS options of the media URL fetcher (tests trust a local certificate). */
  mediaAgentOptions?: AgentOptions
  /** Wraps the message store (the send benchmark switches it off to measure its cost). */
  wrapStore?: (store: MessageStore) => MessageStore
}

/** How often the queue looks for entries another instance queued, and the retention purge runs. */
const QUEUE_POLL_MS = 5_000
/** The database's answer is awaited this long before messages go to local files, for DB_RETRY_MS. */
const DB_TIMEOUT_MS = 3_000
const DB_RETRY_MS = 15_000
const PURGE_EVERY_MS = 3_600_000

export default fp<MessagesPluginOptions>(
  async (app, { config, logger, clock = systemClock, mediaAgentOptions, wrapStore = (s) => s }) => {
    const log = logger.child({ component: 'messages' })
    const c = config.messages
    const sealer = createSealer(config.encryptionKey)
    const sql = app.db.sql
    const dir = join(config.sessionPath, '.messages')
    const files = createFileMessageStore({ dir, sealer })
    // Sends between their message id and their stored row.
    const inflight = createInflight()
    // One statement carries the message rows and the idempotency claims waiting at the same time.
    const writes = sql ? createSendWrites({ sql, clock, sendsUnderWay: inflight.size }) : undefined
    const store = wrapStore(
      sql
        ? createFallbackMessageStore({ primary: createPostgresMessageStore({ sql, sealer, writes }), fallback: files, timeoutMs: DB_TIMEOUT_MS, retryAfterMs: DB_RETRY_MS, clock, log })
        : files,
    )
    // Kept answers are written behind the answer (src/messages/idempotency/behind.ts); drained on close.
    const idempotency = withAnswersBehind(sql ? boundedIdempotency(createPostgresIdempotencyStore({ sql, sealer, clock, writes }), DB_TIMEOUT_MS, clock) : createFileIdempotencyStore({ dir, sealer }))
    const queue = sql ? boundedQueue(createPostgresQueueStore({ sql, sealer }), DB_TIMEOUT_MS, clock) : createFileQueueStore({ dir, sealer })
    const fetcher = createMediaFetcher({
      guard: createAddressGuard(c.allowedNetworks),
      timeoutMs: c.fetchTimeoutMs,
      maxRedirects: c.fetchMaxRedirects,
      maxBytes: c.mediaMaxBytes,
      agentOptions: mediaAgentOptions,
    })
    const sender = createSender({
      sessions: app.sessions,
      store,
      inflight,
      ackTimeoutMs: c.ackTimeoutMs,
      clock,
      log,
      onSent: app.metrics.sessions.messageSent,
    })
    const openSessions = () => app.sessions.list().filter((s) => s.state === 'open').map((s) => s.clientId)
    let worker: ReturnType<typeof createQueueWorker> | null = null
    const service = createMessageService({
      sessions: app.sessions,
      store,
      queue,
      sender,
      fetcher,
      mediaMaxBytes: c.mediaMaxBytes,
      clock,
      onQueued: (clientId) => {
        if (openSessions().includes(clientId)) worker?.kick(clientId)
      },
    })
    async function deliver(clientId: string, messageId: string, request: Parameters<MessageService['send']>[1]): Promise<DeliveryResult> {
      try {
        await service.send(clientId, request, { messageId, direct: true })
        return { kind: 'sent' }
      } catch (err) {
        if (err instanceof SessionError && (err.code === 'SESSION_NOT_OPEN' || err.code === 'SESSION_NOT_FOUND' || err.code === 'SESSION_STOPPED')) {
          return { kind: 'retry' }
        }
        // It left: the message store has it, with its status (pending until a receipt says more).
        if (err instanceof MessageError && err.code === 'SEND_NOT_ACKNOWLEDGED') return { kind: 'sent' }
        // It left, and only the message store failed: marking it failed would invite a second send.
        if (err instanceof MessageError && err.details?.sent === true) return { kind: 'sent' }
        // Nothing left, and the cause may pass (a media host or the media URL failed): tried again.
        if (err instanceof MessageError && (err.code === 'MEDIA_UPLOAD_FAILED' || err.code === 'MEDIA_FETCH_FAILED')) return { kind: 'again', reason: `${err.code}: ${err.message}` }
        if (err instanceof MessageError || err instanceof SessionError) return { kind: 'failed', reason: `${err.code}: ${err.message}` }
        throw err
      }
    }
    const tracker = createStatusTracker({ store, inflight, log, clock })
    // Never removed: sessions stop after this plugin's onClose, and what they still receive is kept.
    app.sessions.observe({
      ...tracker.observer,
      onState(clientId, change) {
        if (change.state === 'open') worker?.kick(clientId)
      },
    })
    app.decorate('messages', { service, store, idempotency, queue, fetcher })

    let purgeTimer: NodeJS.Timeout | null = null
    async function purge(): Promise<void> {
      const before = messagePurgeCutoff(Date.now(), c.retentionDays)
      try {
        const [messages, keys, failed] = await Promise.all([store.purge(before), idempotency.purge(new Date()), queue.purge(before)])
        if (messages + keys + failed > 0) log.info({ messages, keys, failedQueued: failed }, 'expired messages and idempotency keys removed')
      } catch (err) {
        log.warn({ err }, 'removing expired messages failed; it runs again later')
      }
    }
    app.addHook('onReady', async () => {
      worker = createQueueWorker({
        queue,
        openSessions,
        deliver,
        intervalMs: c.queue.intervalMs,
        jitterMs: c.queue.jitterMs,
        pollMs: QUEUE_POLL_MS,
        clock,
        log,
      })
      worker.start()
      purgeTimer = setInterval(() => void purge(), PURGE_EVERY_MS)
      purgeTimer.unref()
      void purge()
    })
    // Fastify closes later plugins first: this runs before the sessions stop, so queued sends end first.
    app.addHook('onClose', async () => {
      if (purgeTimer) clearInterval(purgeTimer)
      await worker?.stop()
      await tracker.drain()
      await idempotency.drain()
      fetcher.close()
    })
  },
  { name: 'messages', fastify: '5.x', dependencies: ['db', 'sessions', 'metrics'] },
)
