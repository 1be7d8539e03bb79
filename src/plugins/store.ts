// The session store (Baileys auth state in Postgres mirrored to files, or files only), created once
// per app from the validated config and closed last, after the sessions have flushed into it.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import type { AppConfig } from '../config.js'
import { createSessionStore } from '../keystore/index.js'
import type { SessionStore, SessionStoreOptions } from '../keystore/types.js'

declare module 'fastify' {
  interface FastifyInstance {
    store: SessionStore
  }
}

export interface StorePluginOptions {
  config: Pick<AppConfig, 'sessionPath' | 'storage' | 'databaseUrl' | 'encryptionKey' | 'notices'>
  logger: Logger
  /** Replaces the keystore factory (tests of failure paths); defaults to createSessionStore. */
  createStore?: (options: SessionStoreOptions) => Promise<SessionStore>
}

export default fp<StorePluginOptions>(
  async (app, { config, logger, createStore = createSessionStore }) => {
    for (const notice of config.notices) app.log.warn(notice)
    const log = logger.child({ component: 'keystore' })
    const store = await createStore({
      sessionPath: config.sessionPath,
      databaseUrl: config.storage === 'postgres' ? config.databaseUrl : undefined,
      sql: app.db.sql ?? undefined,
      encryptionKey: config.encryptionKey,
      logger: log,
      onWrite: app.metrics.onWrite,
    })
    app.log.info(
      { storage: store.mode, sessionPath: config.sessionPath, encryption: Boolean(config.encryptionKey) },
      'session store ready',
    )
    app.decorate('store', store)

    if (store.mode === 'postgres') {
      const { dbErrors } = app.metrics
      new Gauge({
        name: 'whatsapp_db_up',
        help: '1 when the database answered a ping at scrape time, else 0',
        registers: [app.metrics.registry],
        async collect() {
          const up = await store.ping().catch(() => false)
          if (!up) dbErrors.inc()
          this.set(up ? 1 : 0)
        },
      })
    }
    app.addHook('onClose', async () => {
      await store.close()
    })
  },
  { name: 'store', fastify: '5.x', dependencies: ['metrics', 'db'] },
)
