// The two cleanups: local files no session needs, and stored sessions not updated for a while.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoQuery } from '../../schemas/common.js'
import { CLEANUP_OLD_DEFAULTS, CleanupOldBody, CleanupOldResponse, CleanupSessionsBody, CleanupSessionsResponse } from '../../schemas/cleanup.js'
import { cleanupLocalFiles, cleanupOldSessions, corruptRetentionMs } from '../../whatsapp/cleanup.js'
import { emptyBodyIsObject } from '../hooks.js'

const cleanupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['sessions']

  app.post('/cleanup-sessions', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Remove stale temporary files, quarantined corrupt files and files of sessions that no longer exist',
      description: 'Never touches the files of a session running on this server. In file mode, session files are the store and are kept.',
      querystring: NoQuery,
      body: CleanupSessionsBody,
      response: { 200: CleanupSessionsResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async () => {
    const result = await cleanupLocalFiles({
      sessionPath: app.config.sessionPath,
      store: app.store,
      isRunning: app.sessions.isRunning,
      corruptOlderThanMs: corruptRetentionMs(app.config.cleanup.inactiveAfterDays),
    })
    app.metrics.cleanup('local', false, result.removed.length)
    return result
  })

  app.post('/cleanup-old-sessions', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Delete stored sessions not updated for olderThanDays (dry run by default); never a running one',
      querystring: NoQuery,
      body: CleanupOldBody,
      response: { 200: CleanupOldResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async (request) => {
    const { olderThanDays = CLEANUP_OLD_DEFAULTS.olderThanDays, dryRun = CLEANUP_OLD_DEFAULTS.dryRun } = request.body
    const result = await cleanupOldSessions({
      store: app.store, isRunning: app.sessions.isRunning, heldElsewhere: app.sessions.heldElsewhere, olderThanDays, dryRun,
    })
    app.metrics.cleanup('old', dryRun, result.removed.length)
    return result
  })
}

export default cleanupRoutes
