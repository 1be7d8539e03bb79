// The event outbox and its producer, as the `events` decorator: the Postgres table in Postgres mode
// (behind a local spool under SESSION_PATH/.events-spool that keeps events through a database outage,
// see src/events/store/spooled.ts), JSON-lines files under SESSION_PATH/.events otherwise. The
// producer observes every session (messages, statuses, session states, QR codes). Events older than
// EVENTS_RETENTION_HOURS are purged hourly.
import { join } from 'node:path'
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import type { AppConfig } from '../config.js'
import { createEventProducer, type EventProducer } from '../events/producer.js'
import { createFileOutbox } from '../events/store/file.js'
import { createPostgresOutbox } from '../events/store/postgres.js'
import { createSpooledOutbox } from '../events/store/spooled.js'
import type { EventOutbox } from '../events/types.js'
import { systemClock, type Clock } from '../lib/clock.js'

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
  clock?: Clock
}

const PURGE_EVERY_MS = 3_600_000
/** Longest wait for the database before an event goes to the local spool (like the message store's). */
const DB_TIMEOUT_MS = 3_000

export default fp<EventsPluginOptions>(
  async (app, { config, logger, heartbeatMs = 15_000, clock = systemClock }) => {
    const log = logger.child({ component: 'events' })
    const onListenerError = (err: unknown) => log.error({ err }, 'an event subscriber failed')
    const sql = app.db.sql
    const spooled = sql
      ? createSpooledOutbox({ outbox: createPostgresOutbox({ sql, onListenerError }), dir: join(config.sessionPath, '.events-spool'), timeoutMs: DB_TIMEOUT_MS, clock, log })
      : null
    const outbox: EventOutbox = spooled ?? createFileOutbox({ dir: join(config.sessionPath, '.events'), onListenerError })
    if (spooled) {
      new Gauge({
        name: 'whatsapp_events_spooled',
        help: 'Events kept on local disk because the database did not take them, not yet moved to it',
        registers: [app.metrics.registry],
        collect() {
          this.set(spooled.spooled())
        },
      })
    }
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
      // In the background: spool files left by an earlier run go to the database first.
      void spooled?.start().catch((err: unknown) => log.error({ err }, 'the event spool could not be read'))
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
  { name: 'events', fastify: '5.x', dependencies: ['db', 'metrics'] },
)
