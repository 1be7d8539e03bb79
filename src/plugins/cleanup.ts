// The automatic cleanup the owner's guide promises, on a timer (CLEANUP_INTERVAL_MS, 0 = off):
//  - local files: stale temporary files, mirror files of sessions the database no longer has, and
//    quarantined corrupt files once older than CLEANUP_INACTIVE_AFTER_DAYS (POST /cleanup-sessions
//    keeps them as long);
//  - old sessions: only those never linked or logged out ('inactive', 'logged_out') and not updated for
//    CLEANUP_INACTIVE_AFTER_DAYS; a linked account is never deleted automatically (it would need a new
//    QR scan), nor a session running here or on another instance.
// Each run is logged with what it removed and counted in /metrics. The timer stops on close.
import fp from 'fastify-plugin'
import type { AppConfig } from '../config.js'
import { cleanupLocalFiles, cleanupOldSessions, corruptRetentionMs } from '../whatsapp/cleanup.js'

export interface CleanupPluginOptions {
  config: Pick<AppConfig, 'sessionPath' | 'cleanup'>
}

/** The first run comes soon after boot (leftovers of a crash), then one per interval. */
const FIRST_RUN_MAX_MS = 60_000

export default fp<CleanupPluginOptions>(
  async (app, { config }) => {
    const { intervalMs, inactiveAfterDays } = config.cleanup
    if (intervalMs === 0) return
    const log = app.log.child({ component: 'cleanup' })
    let running: Promise<void> | null = null
    let timer: NodeJS.Timeout | null = null

    async function run(): Promise<void> {
      try {
        const local = await cleanupLocalFiles({
          sessionPath: config.sessionPath,
          store: app.store,
          isRunning: app.sessions.isRunning,
          corruptOlderThanMs: corruptRetentionMs(inactiveAfterDays),
        })
        app.metrics.cleanup('local', false, local.removed.length)
        let old: string[] = []
        if (inactiveAfterDays > 0) {
          const result = await cleanupOldSessions({
            store: app.store,
            isRunning: app.sessions.isRunning,
            heldElsewhere: app.sessions.heldElsewhere,
            olderThanDays: inactiveAfterDays,
            dryRun: false,
            statuses: ['inactive', 'logged_out'],
          })
          app.metrics.cleanup('old', false, result.removed.length)
          old = result.removed.map((s) => s.clientId)
        }
        const level = local.removed.length + old.length + local.errors.length > 0 ? 'info' : 'debug'
        log[level]({ files: local.removed, fileErrors: local.errors, sessions: old }, 'automatic cleanup ran')
      } catch (err) {
        log.warn({ err }, 'automatic cleanup failed; it runs again at the next interval')
      }
    }

    const schedule = (ms: number) => {
      timer = setTimeout(() => {
        running = run().finally(() => {
          running = null
          if (timer !== null) schedule(intervalMs)
        })
      }, ms)
      timer.unref()
    }
    app.addHook('onReady', async () => schedule(Math.min(intervalMs, FIRST_RUN_MAX_MS)))
    app.addHook('onClose', async () => {
      if (timer !== null) clearTimeout(timer)
      timer = null
      await running
    })
  },
  { name: 'cleanup', fastify: '5.x', dependencies: ['store', 'sessions', 'metrics'] },
)
