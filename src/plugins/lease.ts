// One WhatsApp connection per session, as the `lease` decorator:
// - Postgres mode (SESSION_LEASE=on): a LeaseManager on the instance's pool; each session holds its
//   client id's lease before it connects (see src/lease and Session).
// - File mode: no lease across machines; the session folder is locked against a second local process.
// Closed after the sessions (Fastify runs later plugins' onClose first), so they release their leases
// before the pool ends.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import { acquireFolderLock, createLeaseManager, SessionFolderLockedError, type FolderLock, type LeaseManager } from '../lease/index.js'

export interface LeaseInfo {
  /** postgres: sessions hold a lease row; off: SESSION_LEASE=off; folder-lock: file mode. */
  mode: 'postgres' | 'off' | 'folder-lock'
  description: string
  /** This process's lease owner id (Postgres mode). */
  owner: string | null
  ttlMs: number | null
  /** The folder lock file (file mode). */
  lockFile: string | null
}

declare module 'fastify' {
  interface FastifyInstance {
    lease: { manager: LeaseManager | null; info: LeaseInfo }
  }
}

export interface LeasePluginOptions {
  config: Pick<AppConfig, 'storage' | 'databaseUrl' | 'sessionPath' | 'lease'>
  logger: Logger
}

export default fp<LeasePluginOptions>(
  async (app, { config, logger }) => {
    if (app.store.mode === 'postgres' && config.lease.enabled && app.db.sql) {
      const placement = app.cluster.placement
      const manager = createLeaseManager({
        sql: app.db.sql,
        owner: config.lease.owner,
        ttlMs: config.lease.ttlMs,
        logger: logger.child({ component: 'lease' }),
        // Each instance tries only the leases placement gives it (and those of dead instances' sessions).
        ...(placement ? { preferredElsewhere: (clientId: string) => placement.preferredElsewhere(clientId) } : {}),
      })
      app.decorate('lease', {
        manager,
        info: {
          mode: 'postgres',
          description: `Each session connects only while this instance holds its lease in Postgres (ttl ${config.lease.ttlMs} ms); other instances wait in standby and take over when it is released or expires.`,
          owner: config.lease.owner,
          ttlMs: config.lease.ttlMs,
          lockFile: null,
        },
      })
      return
    }
    if (app.store.mode === 'postgres') {
      app.decorate('lease', {
        manager: null,
        info: {
          mode: 'off',
          description: 'SESSION_LEASE=off: no lease; run exactly one instance, or two would evict each other (440).',
          owner: null,
          ttlMs: null,
          lockFile: null,
        },
      })
      return
    }
    let lock: FolderLock
    try {
      lock = await acquireFolderLock(config.sessionPath, { logger: logger.child({ component: 'lease' }) })
    } catch (err) {
      // SessionFolderLockedError names the pid; start-up fails with that sentence.
      if (err instanceof SessionFolderLockedError) app.log.error({ lockPath: err.lockPath, holderPid: err.holder?.pid }, 'the session folder is in use by another process')
      throw err
    }
    app.decorate('lease', {
      manager: null,
      info: {
        mode: 'folder-lock',
        description: 'File mode has no lease across machines: run one instance per session folder. This folder is locked against other local processes (lock file with the owner pid).',
        owner: null,
        ttlMs: null,
        lockFile: lock.path,
      },
    })
    app.addHook('onClose', () => lock.release())
  },
  { name: 'lease', fastify: '5.x', dependencies: ['store', 'db', 'cluster'] },
)
