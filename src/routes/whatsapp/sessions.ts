// The sessions of this server: list the stored ones, start another, delete one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses, NoQuery } from '../../schemas/common.js'
import { ClientIdParams, CreateSessionBody, CreateSessionResponse, DeleteSessionResponse, SessionsListResponse } from '../../schemas/sessions.js'

const sessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['sessions']

  app.get('/sessions', {
    schema: {
      tags,
      summary: 'Stored sessions (database in Postgres mode, files in file mode), never key material',
      querystring: NoQuery,
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
      querystring: NoQuery,
      body: CreateSessionBody,
      response: { 201: CreateSessionResponse, ...errorResponses('VALIDATION_FAILED', 'INVALID_CLIENT_ID', 'SESSION_EXISTS', 'SESSION_STOPPED', 'SESSION_UNREADABLE', 'SESSION_LIMIT_REACHED') },
    },
  }, async (request, reply) => {
    const { clientId } = request.body
    const session = await app.sessions.create(clientId)
    const status = session.status()
    return reply.code(201).send({ clientId, state: status.state, startedAt: status.startedAt })
  })

  app.delete('/sessions/:clientId', {
    schema: {
      tags,
      summary: 'Log a session out (when connected), stop it and delete its stored data',
      params: ClientIdParams,
      querystring: NoQuery,
      response: { 200: DeleteSessionResponse, ...errorResponses('VALIDATION_FAILED', 'STORED_SESSION_NOT_FOUND', 'LEASE_HELD_ELSEWHERE', 'STORE_UNAVAILABLE') },
    },
  }, async (request) => {
    const { clientId } = request.params
    return { clientId, ...(await app.sessions.delete(clientId)) }
  })
}

export default sessionsRoutes
