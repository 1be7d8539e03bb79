// The instance's one Postgres pool (Postgres mode), as the `db` decorator: the keystore, the lease and
// everything else that needs the database borrow it, and it ends last, after they have flushed.
// DATABASE_POOL_MAX bounds the connections this instance opens (see docs: Supabase's small plans
// allow few).
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import { createSql, type Sql } from '../db/index.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: { sql: Sql | null }
  }
}

export interface DbPluginOptions {
  config: Pick<AppConfig, 'storage' | 'databaseUrl' | 'databasePoolMax'>
  logger: Logger
}

export default fp<DbPluginOptions>(
  async (app, { config, logger }) => {
    if (config.storage !== 'postgres' || !config.databaseUrl) {
      app.decorate('db', { sql: null })
      return
    }
    const sql = createSql(config.databaseUrl, { max: config.databasePoolMax, logger: logger.child({ component: 'db' }) })
    app.decorate('db', { sql })
    // Registered first among the resources, so Fastify closes it last.
    app.addHook('onClose', async () => {
      await sql.end({ timeout: 5 })
    })
  },
  { name: 'db', fastify: '5.x' },
)
