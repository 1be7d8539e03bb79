// Multi-session routes: list stored sessions, start another, delete one, clean up old ones.
import type { FastifyInstance } from 'fastify'
import { errorResponses } from '../../schemas/common.js'
import {
  ClientIdParams,
  CleanupOldBody,
  CleanupOldResponse,
  CreateSessionBody,
  CreateSessionResponse,
  DeleteSessionResponse,
  SessionsListResponse,
} from '../../schemas/sessions.js'
import { cleanupOldSessions } from '../../whatsapp/cleanup.js'
import { emptyBodyIsObject } from '../hooks.js'

export default async function sessionsRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['sessions']

  app.get('/sessions', {
    schema: {
      tags,
      summary: 'Stored sessions (database in Postgres mode, files in file mode), never key material',
      response: { 200: SessionsListResponse, ...errorResponses('STORE_UNAVAILABLE') },
    },
  }, async () => {
    const stored = await app.store.list()
    const listed = new Set(stored.map((s) => s.clientId))
    const sessions = stored.map((s) => ({
      ...s,
      running: app.sessions.isRunning(s.clientId),
      state: app.sessions.find(s.clientId)?.state ?? null,
    }))
    // A session that runs but has written nothing yet (still waiting for its first QR scan) is listed too.
    for (const session of app.sessions.list()) {
      if (listed.has(session.clientId)) continue
      const startedAt = session.status().startedAt
      sessions.push({
        clientId: session.clientId, status: 'inactive', jid: null, createdAt: startedAt, updatedAt: startedAt,
        location: app.store.mode, running: true, state: session.state,
      })
    }
    return { storage: app.store.mode, sessions, resume: app.sessions.resumeProgress() }
  })

  app.post('/sessions', {
    schema: {
      tags,
      summary: 'Start another session (another WhatsApp account) on this server',
      body: CreateSessionBody,
      response: { 201: CreateSessionResponse, ...errorResponses('VALIDATION_FAILED', 'INVALID_CLIENT_ID', 'SESSION_EXISTS', 'SESSION_STOPPED', 'SESSION_UNREADABLE', 'SESSION_LIMIT_REACHED') },
    },
  }, async (request, reply) => {
    const { clientId } = request.body as CreateSessionBody
    const session = await app.sessions.create(clientId)
    const status = session.status()
    return reply.code(201).send({ clientId, state: status.state, startedAt: status.startedAt })
  })

  app.delete('/sessions/:clientId', {
    schema: {
      tags,
      summary: 'Log a session out (when connected), stop it and delete its stored data',
      params: ClientIdParams,
      response: { 200: DeleteSessionResponse, ...errorResponses('VALIDATION_FAILED', 'STORED_SESSION_NOT_FOUND', 'LEASE_HELD_ELSEWHERE', 'STORE_UNAVAILABLE') },
    },
  }, async (request) => {
    const { clientId } = request.params as ClientIdParams
    return { clientId, ...(await app.sessions.delete(clientId)) }
  })

  app.post('/cleanup-old-sessions', {
    preValidation: emptyBodyIsObject,
    schema: {
      tags,
      summary: 'Delete stored sessions not updated for olderThanDays (dry run by default); never a running one',
      body: CleanupOldBody,
      response: { 200: CleanupOldResponse, ...errorResponses('VALIDATION_FAILED') },
    },
  }, async (request) => {
    const { olderThanDays, dryRun } = request.body as CleanupOldBody
    const result = await cleanupOldSessions({
      store: app.store, isRunning: app.sessions.isRunning, heldElsewhere: app.sessions.heldElsewhere, olderThanDays, dryRun,
    })
    app.metrics.cleanup('old', dryRun, result.removed.length)
    return result
  })
}
