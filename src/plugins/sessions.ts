// The session manager as the `sessions` decorator. The default session (CLIENT_ID) starts at boot, and
// so does every other stored session that is linked (status active);
// on close every session stops (reconnect timers cancelled, sockets closed, writes flushed) before the
// store plugin's onClose closes the store.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { Gauge } from 'prom-client'
import type { AppConfig } from '../config.js'
import { createSessionManager, type SessionManager, type SessionManagerOptions } from '../whatsapp/manager.js'
import { SESSION_STATES } from '../lib/session-states.js'
import { registerLeaseGauges } from './lease-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionManager
  }
}

export interface SessionsPluginOptions {
  config: Pick<AppConfig, 'clientId' | 'reconnect' | 'qrTimeoutMs' | 'waWsUrl'>
  logger: Logger
  /** See SessionManagerOptions.openHandle (the lease integration). */
  openHandle?: SessionManagerOptions['openHandle']
  /** Start CLIENT_ID at boot (default true). */
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
    })
    app.decorate('sessions', manager)
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
    registerLeaseGauges(app.metrics.registry, manager)
    // Fastify runs onClose hooks of later plugins first, so this runs before the store closes.
    app.addHook('onClose', async () => {
      await manager.stopAll()
    })
    if (startDefault) {
      await manager.startDefault()
      await manager.resumeStored()
    }
  },
  { name: 'sessions', fastify: '5.x', dependencies: ['store', 'metrics', 'lease'] },
)
