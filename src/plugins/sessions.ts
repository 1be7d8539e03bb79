// The session manager as the `sessions` decorator. Before the server listens, one cheap check
// (store.preflight) refuses a configuration that cannot read the stored sessions (wrong encryption
// key); then the default session (CLIENT_ID) and every other stored session that is linked resume in
// the background, a bounded number at a time, and /ready reports the progress. On close every session
// stops (reconnect timers cancelled, sockets closed, writes flushed, leases released) before the
// store plugin's onClose closes the store.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import { registerLeaseGauges } from '../lease/index.js'
import { SESSION_STATES } from '../lib/session-states.js'
import { isStoreDataError } from '../lib/store-errors.js'
import { SessionError } from '../whatsapp/errors.js'
import { createSessionManager, type SessionManager, type SessionManagerOptions } from '../whatsapp/manager.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionManager
  }
}

export interface SessionsPluginOptions {
  config: SessionManagerOptions['config']
  logger: Logger
  /** See SessionManagerOptions.openHandle (the lease integration). */
  openHandle?: SessionManagerOptions['openHandle']
  /** Start CLIENT_ID and resume the stored sessions at boot (default true). */
  startDefault?: boolean
}

export default fp<SessionsPluginOptions>(
  async (app, { config, logger, openHandle, startDefault = true }) => {
    const manager = createSessionManager({
      store: app.store,
      config,
      logger,
      metrics: app.metrics.sessions,
      openHandle,
      ...(app.lease.manager ? { lease: app.lease.manager } : {}),
      ...(app.cluster.placement ? { placement: app.cluster.placement } : {}),
    })
    app.decorate('sessions', manager)
    const leaseManager = app.lease.manager
    if (leaseManager) app.cluster.attach(manager, () => leaseManager.wake())
    new Gauge({
      name: 'whatsapp_sessions',
      help: 'Sessions running on this server by state',
      labelNames: ['state'] as const,
      registers: [app.metrics.registry],
      collect() {
        const counts = manager.countByState()
        for (const state of SESSION_STATES) this.set({ state }, counts[state])
      },
    })
    registerLeaseGauges(app.metrics.registry, () => manager.leaseStates())
    // Fastify runs onClose hooks of later plugins first, so this runs before the store closes.
    app.addHook('onClose', async () => {
      await manager.stopAll()
    })
    if (!startDefault) return
    try {
      await app.store.preflight()
    } catch (err) {
      if (isStoreDataError(err)) throw new SessionError('SESSION_UNREADABLE', err.message, { cause: err.code }, { cause: err })
      throw err
    }
    app.addHook('onReady', async () => {
      manager.resumeAll().catch((err: unknown) => logger.error({ err }, 'resuming the stored sessions failed'))
    })
  },
  { name: 'sessions', fastify: '5.x', dependencies: ['store', 'metrics', 'lease', 'cluster'] },
)
