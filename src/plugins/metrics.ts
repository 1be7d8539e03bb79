// Prometheus metrics on a Registry of this app instance (never prom-client's global one: tests build
// many apps in one process, and each must count alone). Resources that own a gauge's source (the
// store, the session manager) register their own collectors on app.metrics.registry.
import fp from 'fastify-plugin'
import { Counter, Histogram, Registry } from 'prom-client'
import type { WriteEvent } from '../keystore/types.js'
import type { SessionMetrics } from '../whatsapp/manager.js'

export function createMetrics() {
  const registry = new Registry()
  const registers = [registry]
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers })
  const storeWrites = counter('whatsapp_store_writes_total', 'Session store writes (creds and keys) by backend and result: session persistence success rate', ['backend', 'result'])
  const storeLatency = new Histogram({
    name: 'whatsapp_keystore_call_duration_seconds',
    help: 'Keystore call latency by backend and operation',
    labelNames: ['backend', 'op'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  })
  const dbErrors = counter('whatsapp_db_errors_total', 'Failed database operations (writes and health pings): database connection reliability')
  const cleanupRuns = counter('whatsapp_session_cleanup_runs_total', 'Session cleanup runs by kind (local files, old sessions) and whether it was a dry run', ['kind', 'dry_run'])
  const cleanupRemoved = counter('whatsapp_session_cleanup_removed_total', 'Sessions or files removed by cleanups, by kind', ['kind'])
  const logins = counter('whatsapp_logins_total', 'Session logins by result: success (newly linked), restored (stored creds), logged_out, replaced', ['result'])
  const pairingCodes = counter('whatsapp_pairing_codes_total', 'Pairing code requests by result', ['result'])
  const messagesSent = counter('whatsapp_messages_sent_total', 'Messages sent through the API by result', ['result'])
  // Pre-create the series so dashboards see zeros instead of missing data.
  for (const result of ['success', 'restored', 'logged_out', 'replaced']) logins.inc({ result }, 0)
  for (const result of ['ok', 'error']) {
    messagesSent.inc({ result }, 0)
    pairingCodes.inc({ result }, 0)
  }

  const onWrite = (event: WriteEvent): void => {
    storeLatency.observe({ backend: event.backend, op: event.op }, event.seconds)
    if (event.op !== 'get') storeWrites.inc({ backend: event.backend, result: event.ok ? 'ok' : 'error' })
    // A write the database failed counts even when the mirror carried it (it then landed in 'file').
    if (event.databaseFailed || (!event.ok && event.backend === 'postgres')) dbErrors.inc()
  }
  const sessions: SessionMetrics = {
    login: (result) => logins.inc({ result }),
    pairingCode: (result) => pairingCodes.inc({ result }),
    messageSent: (result) => messagesSent.inc({ result }),
  }
  const cleanup = (kind: 'local' | 'old', dryRun: boolean, removed: number): void => {
    cleanupRuns.inc({ kind, dry_run: String(dryRun) })
    if (!dryRun) cleanupRemoved.inc({ kind }, removed)
  }
  return { registry, onWrite, sessions, cleanup, dbErrors }
}

export type Metrics = ReturnType<typeof createMetrics>

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
  }
}

export default fp(
  async (app) => {
    const metrics = createMetrics()
    app.decorate('metrics', metrics)
    app.addHook('onClose', async () => metrics.registry.clear())
  },
  { name: 'metrics', fastify: '5.x' },
)
