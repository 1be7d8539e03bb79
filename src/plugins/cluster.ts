// The cluster as the `cluster` decorator (Postgres mode with the lease on; otherwise one instance and
// every member is null): the instance registry (the ClusterDirectory request routing reads), this
// instance's placement view (the lease manager asks it before trying a lease), and the heartbeat loop
// that keeps both current, discovers sessions stored through other instances and hands over the
// sessions placement gives to a newly joined instance. On close the instance deregisters first
// (preClose), so the others count it out while its sessions hand over.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import type { AppConfig } from '../config.js'
import { createClusterLoop, type ClusterSessions } from '../cluster/loop.js'
import { createPlacement, type Placement } from '../cluster/placement.js'
import { createInstanceRegistry, type InstanceRegistry } from '../cluster/registry.js'
import type { ClusterDirectory } from '../cluster/types.js'
import { systemClock, type Clock } from '../lib/clock.js'

declare module 'fastify' {
  interface FastifyInstance {
    cluster: {
      directory: ClusterDirectory | null
      registry: InstanceRegistry | null
      placement: Placement | null
      /** The sessions the loop works on; set by the sessions plugin. */
      attach(sessions: ClusterSessions, wake: () => void): void
    }
  }
}

export interface ClusterPluginOptions {
  config: Pick<AppConfig, 'storage' | 'lease' | 'cluster'>
  logger: Logger
  clock?: Clock
}

/** Heartbeats per discovery of newly stored sessions (discovery every lease ttl). */
const DISCOVER_EVERY = 3

export default fp<ClusterPluginOptions>(
  async (app, { config, logger, clock = systemClock }) => {
    const sql = app.db.sql
    if (config.storage !== 'postgres' || !config.lease.enabled || !sql) {
      app.decorate('cluster', { directory: null, registry: null, placement: null, attach: () => undefined })
      return
    }
    const log = logger.child({ component: 'cluster' })
    const ttlMs = config.lease.ttlMs
    const heartbeatMs = Math.round(ttlMs / 3)
    const registry = createInstanceRegistry({
      sql,
      self: { id: config.lease.owner, url: config.cluster.internalUrl, flyMachineId: config.cluster.flyMachineId },
      heartbeatMs,
      freshMs: ttlMs,
      clock,
      logger: log,
    })
    const placement = createPlacement({ selfId: config.lease.owner, settleMs: config.cluster.settleMs, unpinGraceMs: ttlMs + heartbeatMs, freshMs: ttlMs, clock })
    let sessions: ClusterSessions | null = null
    let wake: () => void = () => undefined
    const loop = createClusterLoop({
      registry,
      placement,
      onChange: () => wake(),
      sessions: () => sessions,
      heartbeatMs,
      discoverEvery: DISCOVER_EVERY,
      batch: config.cluster.rebalanceBatch,
      clock,
      logger: log,
    })
    app.decorate('cluster', {
      directory: registry,
      registry,
      placement,
      attach(s: ClusterSessions, w: () => void) {
        sessions = s
        wake = w
      },
    })
    app.addHook('onReady', async () => {
      loop.start()
    })
    app.addHook('preClose', async () => {
      await loop.stop()
      await registry.deregister().catch((err: unknown) => log.warn({ err }, 'could not deregister this instance; the others count it out once its heartbeat is stale'))
    })
  },
  { name: 'cluster', fastify: '5.x', dependencies: ['db', 'store'] },
)
