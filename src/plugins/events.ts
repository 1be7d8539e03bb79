// The event outbox and its producer, as the `events` decorator: the Postgres table in Postgres mode,
// JSON-lines files under SESSION_PATH/.events otherwise. The producer observes every session (messages,
// statuses, session states, QR codes). Events older than EVENTS_RETENTION_HOURS are purged hourly.
import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import { createEventProducer, type EventProducer } from '../events/producer.js'
import { createFileOutbox } from '../events/store/file.js'
import { createPostgresOutbox } from '../events/store/postgres.js'
import type { EventOutbox } from '../events/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    events: {
      outbox: EventOutbox
      producer: EventProducer
      /** Seconds between two heartbeat comments of the live stream. */
      heartbeatMs: number
    }
  }
}

export interface EventsPluginOptions {
  config: Pick<AppConfig, 'sessionPath' | 'events'>
  logger: Logger
  /** Heartbeat period of the live stream (default 15 s; tests shorten it). */
  heartbeatMs?: number
}

const PURGE_EVERY_MS = 3_600_000

export default fp<EventsPluginOptions>(
  async (app, { config, logger, heartbeatMs = 15_000 }) => {
    const log = logger.child({ component: 'events' })
    const onListenerError = (err: unknown) => log.error({ err }, 'an event subscriber failed')
    const sql = app.db.sql
    const outbox = sql ? createPostgresOutbox({ sql, onListenerError }) : createFileOutbox({ dir: join(config.sessionPath, '.events'), onListenerError })
    const producer = createEventProducer({ outbox, log })
    app.decorate('events', { outbox, producer, heartbeatMs })

    let purgeTimer: NodeJS.Timeout | null = null
    async function purge(): Promise<void> {
      try {
        const removed = await outbox.purge(new Date(Date.now() - config.events.retentionHours * 3_600_000))
        if (removed > 0) log.info({ removed }, 'expired events removed')
      } catch (err) {
        log.warn({ err }, 'removing expired events failed; it runs again later')
      }
    }
    app.addHook('onReady', async () => {
      // Registered before the sessions plugin (so the outbox closes after every session stopped and
      // reported it), the producer observes the sessions from here: this hook runs before the
      // sessions plugin's, which starts them, and after the message store's observer was added (a
      // received message is in the message store, its media downloadable, before its event exists).
      // Never removed: sessions report until they stopped.
      app.sessions.observe(producer.observer)
      purgeTimer = setInterval(() => void purge(), PURGE_EVERY_MS)
      purgeTimer.unref()
      void purge()
    })
    // Runs after the sessions stopped (Fastify closes later plugins first).
    app.addHook('onClose', async () => {
      if (purgeTimer) clearInterval(purgeTimer)
      await producer.drain()
      await outbox.close()
    })
  },
  { name: 'events', fastify: '5.x', dependencies: ['db'] },
)
