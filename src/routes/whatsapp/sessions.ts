// The sessions: list every stored one (the whole cluster in Postgres mode, with the instance holding
// each), start another, delete one.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { liveHolders, type LiveHolder } from '../../cluster/holders.js'
import { errorResponses, NoQuery, ROUTING_ERRORS } from '../../schemas/common.js'
import { ClientIdParams, CreateSessionBody, CreateSessionResponse, DeleteSessionResponse, SessionsListResponse } from '../../schemas/sessions.js'

const sessionsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const tags = ['sessions']

  app.get('/sessions', {
    schema: {
      tags,
      summary: 'Stored sessions (database in Postgres mode, files in file mode), never key material',
      description: 'In a cluster (Postgres mode, lease on): every session of every instance, with the instance holding it (holder), including sessions held elsewhere that have stored nothing yet.',
      querystring: NoQuery,
      response: { 200: SessionsListResponse, ...errorResponses('STORE_UNAVAILABLE') },
    },
  }, async () => {
    const [stored, holders] = await Promise.all([
      app.store.list(),
      app.lease.manager && app.db.sql ? liveHolders(app.db.sql) : new Map<string, LiveHolder>(),
    ])
    const listed = new Set(stored.map((s) => s.clientId))
    const holderOf = (clientId: string) => holders.get(clientId)?.owner ?? null
    const sessions = stored.map((s) => ({
      ...s,
      running: app.sessions.isRunning(s.clientId),
      state: app.sessions.find(s.clientId)?.state ?? null,
      holder: holderOf(s.clientId),
    }))
    // A session that runs but has written nothing yet (still waiting for its first QR scan) is listed
    // too, here or, from its lease, on another instance.
    for (const session of app.sessions.list()) {
      if (listed.has(session.clientId)) continue
      listed.add(session.clientId)
      const startedAt = session.status().startedAt
      sessions.push({
        clientId: session.clientId, status: 'inactive', jid: null, createdAt: startedAt, updatedAt: startedAt,
        location: app.store.mode, running: true, state: session.state, holder: holderOf(session.clientId),
      })
    }
    for (const [clientId, { owner, acquiredAt }] of holders) {
      if (listed.has(clientId)) continue
      const at = acquiredAt.toISOString()
      sessions.push({
        clientId, status: 'inactive', jid: null, createdAt: at, updatedAt: at, location: app.store.mode, running: false, state: null, holder: owner,
      })
    }
    return { storage: app.store.mode, sessions, resume: app.sessions.resumeProgress() }
  })

  // Held elsewhere already: the holder answers (409 SESSION_EXISTS). Otherwise it starts here.
  app.post('/sessions', {
    config: { session: { clientIdIn: 'body-or-query', whenNoHolder: 'local' } },
    schema: {
      tags,
      summary: 'Start another session (another WhatsApp account) on this server',
      querystring: NoQuery,
      body: CreateSessionBody,
      response: { 201: CreateSessionResponse, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'INVALID_CLIENT_ID', 'SESSION_EXISTS', 'SESSION_STOPPED', 'SESSION_UNREADABLE', 'SESSION_LIMIT_REACHED') },
    },
  }, async (request, reply) => {
    const { clientId } = request.body
    const session = await app.sessions.create(clientId)
    const status = session.status()
    return reply.code(201).send({ clientId, state: status.state, startedAt: status.startedAt })
  })

  // With nobody holding it, the stored session is deleted from here.
  app.delete('/sessions/:clientId', {
    config: { session: { clientIdIn: 'params', whenNoHolder: 'local' } },
    schema: {
      tags,
      summary: 'Log a session out (when connected), stop it and delete its stored data',
      params: ClientIdParams,
      querystring: NoQuery,
      response: { 200: DeleteSessionResponse, ...errorResponses(...ROUTING_ERRORS, 'VALIDATION_FAILED', 'STORED_SESSION_NOT_FOUND', 'LEASE_HELD_ELSEWHERE', 'STORE_UNAVAILABLE') },
    },
  }, async (request) => {
    const { clientId } = request.params
    return { clientId, ...(await app.sessions.delete(clientId)) }
  })
}

export default sessionsRoutes
